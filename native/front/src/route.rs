//! Which requests are protocol queries, the query text a query request carries, and the key its
//! answer is cached under.
//!
//! The text is decoded here as the Python side decodes it (`+` is a space, `%XX` a byte, a `%` not
//! followed by two hex digits stays itself, then UTF-8). The Python worker checks that the text it
//! evaluated is this one before it lets the answer be cached, so a decoding that differed could
//! only cost a cache entry, never serve one query's answer to another.

use crate::request::Request;

pub const FORM: &str = "application/x-www-form-urlencoded";
pub const DIRECT: &str = "application/sparql-query";

/// What runs queries: `/sparql` with a query (in the URL or a POST body), and the Graph Store
/// Protocol's `/rdf-graphs` (a CONSTRUCT per graph): the query lane, killable evaluators.
pub fn is_query(request: &Request) -> bool {
    request.path() == "/rdf-graphs"
        || request.path() == "/sparql" && (request.method == "POST"
            || request.query_string().split('&').any(|p| {
                let name = p.split('=').next().unwrap_or("");
                name == "query" || name == "update"
            }))
}

/// The media type of the body, lower case, without parameters.
fn mime(request: &Request) -> String {
    request.header("content-type").unwrap_or("").split(';').next().unwrap_or("").trim().to_ascii_lowercase()
}

/// `application/x-www-form-urlencoded` decoding of one name or value.
pub fn unquote_plus(raw: &str) -> Vec<u8> {
    let bytes = raw.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => out.push(b' '),
            b'%' if i + 2 < bytes.len() && hex(bytes[i + 1]).is_some() && hex(bytes[i + 2]).is_some() => {
                out.push(hex(bytes[i + 1]).unwrap() * 16 + hex(bytes[i + 2]).unwrap());
                i += 2;
            }
            b => out.push(b),
        }
        i += 1;
    }
    out
}

fn hex(b: u8) -> Option<u8> {
    (b as char).to_digit(16).map(|d| d as u8)
}

/// A protocol query the fast path may take.
pub struct Query {
    /// The query text, decoded.
    pub text: String,
    /// The other parameters as sent (raw, in order, marked with where each came from): part of
    /// the cache key.
    pub others: String,
    /// The other parameters decoded, name and value as frame fields (`workers::frame`), in order;
    /// empty when one is not UTF-8 (the Python side then reads the request itself).
    pub params: Vec<u8>,
    pub params_ok: bool,
}

/// The query text of a request the fast path may take, and the other parameters that the answer
/// depends on: None when the request is not a plain GET or POST of one query (a conditional
/// request, an update, a HEAD, two queries, a body that is not UTF-8...): the Python side then
/// reads the request whole, as always.
pub fn query_of(request: &Request) -> Option<Query> {
    if request.header("if-none-match").is_some() {
        return None;
    }
    let mut found: Vec<Vec<u8>> = Vec::new();
    let mut others = String::new();
    let mut params: Vec<u8> = Vec::new();
    let mut params_ok = true;
    let mut take = |pairs: &str, kind: char, others: &mut String| -> Option<()> {
        for pair in pairs.split('&').filter(|p| !p.is_empty()) {
            let (name, value) = pair.split_once('=').unwrap_or((pair, ""));
            let name = unquote_plus(name);
            if name == b"update" || name.starts_with(b"using-") {
                return None;
            }
            if name == b"query" {
                found.push(unquote_plus(value));
            } else {
                others.push(kind);
                others.push_str(pair);
                others.push('&');
                let value = unquote_plus(value);
                params_ok &= std::str::from_utf8(&name).is_ok() && std::str::from_utf8(&value).is_ok();
                for field in [&name, &value] {
                    params.extend_from_slice(&(field.len() as u32).to_le_bytes());
                    params.extend_from_slice(field);
                }
            }
        }
        Some(())
    };
    let kind;
    match request.method.as_str() {
        "GET" => {
            take(request.query_string(), 'g', &mut others)?;
            kind = 'G';
        }
        "POST" => {
            let m = mime(request);
            let charset_ok = request.header("content-type").unwrap_or("").split(';').skip(1).all(|p| {
                let (k, v) = p.split_once('=').unwrap_or((p, ""));
                !k.trim().eq_ignore_ascii_case("charset")
                    || matches!(v.trim().trim_matches('"').to_ascii_lowercase().as_str(), "utf-8" | "utf8" | "us-ascii")
            });
            if !charset_ok {
                return None;
            }
            if m == FORM {
                if request.query_string().split('&').any(|p| p.split('=').next() == Some("query")) {
                    return None;
                }
                take(request.query_string(), 'g', &mut others)?;
                let body = std::str::from_utf8(&request.body).ok()?;
                take(body, 'f', &mut others)?;
                kind = 'F';
            } else if m == DIRECT {
                take(request.query_string(), 'g', &mut others)?;
                if !found.is_empty() {
                    return None;
                }
                found.push(request.body.clone());
                kind = 'D';
            } else {
                return None;
            }
        }
        _ => return None,
    }
    if found.len() != 1 {
        return None;
    }
    let text = String::from_utf8(found.pop().unwrap()).ok()?;
    if text.trim().is_empty() {
        return None;
    }
    others.insert(0, kind);
    if !params_ok {
        params.clear();
    }
    Some(Query { text, others, params, params_ok })
}

/// The cache key of an answer: the query as the engine reads it (`plain_key`, the scanner's, when
/// the query is plain; else its whole text), and everything else the answer depends on — the
/// other parameters, Accept, and Host (an answer is only ever cached for a host it was given to).
pub fn cache_key(plain_key: Option<&str>, text: &str, others: &str, request: &Request) -> Vec<u8> {
    let mut key = Vec::with_capacity(text.len() + others.len() + 64);
    match plain_key {
        Some(k) => {
            key.push(b'P');
            key.extend_from_slice(k.as_bytes());
        }
        None => {
            key.push(b'R');
            key.extend_from_slice(text.as_bytes());
        }
    }
    for part in [others, request.header("accept").unwrap_or("\u{0}"), request.header("host").unwrap_or("")] {
        key.push(0);
        key.extend_from_slice(part.as_bytes());
    }
    key
}

#[cfg(test)]
mod tests {
    use super::*;

    fn get(target: &str) -> Request {
        Request { method: "GET".into(), target: target.into(), version: "1.1".into(),
                  headers: vec![("host".into(), "h".into())], body: vec![], keep_alive: true }
    }

    #[test]
    fn decodes_as_forms_do() {
        assert_eq!(unquote_plus("a+b%20c%zz%4"), b"a b c%zz%4".to_vec());
        assert_eq!(unquote_plus("%C3%A9"), "é".as_bytes().to_vec());
    }

    #[test]
    fn finds_one_query_and_the_rest() {
        let q = query_of(&get("/sparql?query=ASK+%7B%7D&infer=true")).unwrap();
        assert_eq!((q.text.as_str(), q.others.as_str()), ("ASK {}", "Gginfer=true&"));
        assert_eq!(q.params, b"\x05\0\0\0infer\x04\0\0\0true".to_vec());
        assert!(!query_of(&get("/sparql?query=A&infer=%FF")).unwrap().params_ok);
        assert!(query_of(&get("/sparql?query=A&query=B")).is_none());
        assert!(query_of(&get("/sparql?update=X")).is_none());
        assert!(query_of(&get("/sparql?query=%FF")).is_none());
        assert!(is_query(&get("/sparql?query=x")) && !is_query(&get("/sparql")) && !is_query(&get("/sparql/x?query=1")));
        assert!(is_query(&get("/rdf-graphs?default")) && !is_query(&get("/rdf-graphs/x")));
    }
}
