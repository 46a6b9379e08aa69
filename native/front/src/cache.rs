//! Answers by request (`route::cache_key`), least recently used evicted first, bounded in bytes:
//! the response cache of `cowkg.web.sparql.ResponseCache`, moved into the front so that every
//! worker process shares one (the data cannot change while the server runs).

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex};

/// A cached answer: its header lines (Content-Length included) and its body.
pub struct Response {
    pub head: Vec<u8>,
    pub body: Arc<Vec<u8>>,
}

pub struct Cache {
    inner: Mutex<Inner>,
    max_bytes: usize,
    max_entry: usize,
}

struct Inner {
    entries: HashMap<Vec<u8>, (Arc<Response>, u64)>,
    order: BTreeMap<u64, Vec<u8>>,
    tick: u64,
    size: usize,
}

impl Cache {
    pub fn new(max_bytes: usize, max_entry: usize) -> Cache {
        Cache { inner: Mutex::new(Inner { entries: HashMap::new(), order: BTreeMap::new(), tick: 0, size: 0 }),
                max_bytes, max_entry }
    }

    /// The cached answer (a whole response but its connection header), marked as just used.
    pub fn get(&self, key: &[u8]) -> Option<Arc<Response>> {
        if self.max_bytes == 0 {
            return None;
        }
        let mut inner = self.inner.lock().unwrap();
        inner.tick += 1;
        let tick = inner.tick;
        let (answer, old) = match inner.entries.get_mut(key) {
            Some(entry) => {
                let old = entry.1;
                entry.1 = tick;
                (entry.0.clone(), old)
            }
            None => return None,
        };
        if let Some(k) = inner.order.remove(&old) {
            inner.order.insert(tick, k);
        }
        Some(answer)
    }

    /// Keep `answer` unless it is larger than the largest entry; evict the oldest past the bound.
    pub fn put(&self, key: Vec<u8>, answer: Arc<Response>) {
        let size = answer.head.len() + answer.body.len() + key.len();
        if size > self.max_entry || self.max_bytes == 0 {
            return;
        }
        let mut inner = self.inner.lock().unwrap();
        if inner.entries.contains_key(&key) {
            return;
        }
        inner.tick += 1;
        let tick = inner.tick;
        inner.order.insert(tick, key.clone());
        inner.entries.insert(key, (answer, tick));
        inner.size += size;
        while inner.size > self.max_bytes {
            let oldest = match inner.order.keys().next() {
                Some(&t) => t,
                None => break,
            };
            let k = inner.order.remove(&oldest).unwrap();
            if let Some((a, _)) = inner.entries.remove(&k) {
                inner.size -= a.head.len() + a.body.len() + k.len();
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn r(n: usize) -> Arc<Response> {
        Arc::new(Response { head: vec![], body: Arc::new(vec![0; n]) })
    }

    #[test]
    fn evicts_the_least_recently_used() {
        let cache = Cache::new(30, 20);
        cache.put(b"a".to_vec(), r(10));
        cache.put(b"b".to_vec(), r(10));
        assert!(cache.get(b"a").is_some());
        cache.put(b"c".to_vec(), r(10));
        assert!(cache.get(b"b").is_none() && cache.get(b"a").is_some() && cache.get(b"c").is_some());
        cache.put(b"d".to_vec(), r(25));
        assert!(cache.get(b"d").is_none());
    }
}
