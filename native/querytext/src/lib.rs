//! The query-text scanner of `cowkg.querytext`, in native code (issue 15: the request path out of
//! Python, checks included).
//!
//! Two readers of a SPARQL query text, each giving exactly the tokens its Python original gives
//! (kind, start, end, positions in code points as Python counts them), proven by
//! `tests/test_native_querytext.py` on every query of the project, thousands of mutations and
//! generated texts:
//!
//! - `lex_code`: the code tokens from a position (`querytext._lex_code`): white space and comments
//!   skipped, one token per terminal, the SPARQL 1.1 terminals tried in `_TERMINALS` order;
//! - `all_readings`: every token that starts where some reading of the text puts one
//!   (`querytext._all_readings`), the scan the SERVICE refusal rests on, with the same work budget
//!   (a text too intricate to follow is refused, not half-read).
//!
//! Each terminal is a function from a position to the end of its match, written from the regular
//! expression it replaces (quoted above it); where the expression backtracks, the comment says why
//! one forward pass finds the same end. Standard library only, for Debian's rustc 1.63.

pub const WS: u32 = 0;
pub const VAR: u32 = 1;
pub const WORD: u32 = 2;
pub const PUNCT: u32 = 3;
pub const PNAME: u32 = 4;
pub const IRI: u32 = 5;
pub const STRING: u32 = 6;
pub const COMMENT: u32 = 7;
pub const NUMBER: u32 = 8;
pub const BNODE: u32 = 9;
pub const LANGTAG: u32 = 10;
pub const JUNK: u32 = 11;

pub type Token = (u32, usize, usize);

// --- character classes ---------------------------------------------------------------------------

fn pn_chars_base(c: char) -> bool {
    matches!(c, 'A'..='Z' | 'a'..='z' | '\u{C0}'..='\u{D6}' | '\u{D8}'..='\u{F6}' | '\u{F8}'..='\u{2FF}'
        | '\u{370}'..='\u{37D}' | '\u{37F}'..='\u{1FFF}' | '\u{200C}'..='\u{200D}' | '\u{2070}'..='\u{218F}'
        | '\u{2C00}'..='\u{2FEF}' | '\u{3001}'..='\u{D7FF}' | '\u{F900}'..='\u{FDCF}' | '\u{FDF0}'..='\u{FFFD}'
        | '\u{10000}'..='\u{EFFFF}')
}

fn pn_chars_u(c: char) -> bool {
    c == '_' || pn_chars_base(c)
}

fn name_extra(c: char) -> bool {
    matches!(c, '\u{B7}' | '\u{300}'..='\u{36F}' | '\u{203F}'..='\u{2040}')
}

fn pn_chars(c: char) -> bool {
    pn_chars_u(c) || c == '-' || c.is_ascii_digit() || name_extra(c)
}

fn is_hex(c: char) -> bool {
    c.is_ascii_hexdigit()
}

/// `[^<>"{}|^`\\\x00-\x20]`: what an IRI holds besides escapes.
fn iri_char(c: char) -> bool {
    !matches!(c, '<' | '>' | '"' | '{' | '}' | '|' | '^' | '`' | '\\') && c > '\u{20}'
}

fn at(t: &[char], p: usize) -> Option<char> {
    t.get(p).copied()
}

fn run(t: &[char], mut p: usize, class: impl Fn(char) -> bool) -> usize {
    while p < t.len() && class(t[p]) {
        p += 1;
    }
    p
}

// --- pieces of terminals -------------------------------------------------------------------------

/// `%HEX HEX | \\[_~.\-!$&'()*+,;=/?#@%]`
fn plx(t: &[char], p: usize) -> Option<usize> {
    match at(t, p)? {
        '%' if at(t, p + 1).map_or(false, is_hex) && at(t, p + 2).map_or(false, is_hex) => Some(p + 3),
        '\\' if at(t, p + 1).map_or(false, |c| "_~.-!$&'()*+,;=/?#@%".contains(c)) => Some(p + 2),
        _ => None,
    }
}

/// `\\u HEX{4} | \\U HEX{8}`
fn uchar(t: &[char], p: usize) -> Option<usize> {
    if at(t, p)? != '\\' {
        return None;
    }
    let digits = match at(t, p + 1)? {
        'u' => 4,
        'U' => 8,
        _ => return None,
    };
    if (p + 2..p + 2 + digits).all(|i| at(t, i).map_or(false, is_hex)) {
        Some(p + 2 + digits)
    } else {
        None
    }
}

/// `\\[tbnrf"'\\]`
fn echar(t: &[char], p: usize) -> Option<usize> {
    if at(t, p)? == '\\' && at(t, p + 1).map_or(false, |c| "tbnrf\"'\\".contains(c)) {
        Some(p + 2)
    } else {
        None
    }
}

/// `[PN_CHARS:] | PLX`
fn local_char(t: &[char], p: usize) -> Option<usize> {
    match at(t, p)? {
        c if pn_chars(c) || c == ':' => Some(p + 1),
        _ => plx(t, p),
    }
}

/// `[PN_CHARS_U:0-9] | PLX`
fn local_first(t: &[char], p: usize) -> Option<usize> {
    match at(t, p)? {
        c if pn_chars_u(c) || c == ':' || c.is_ascii_digit() => Some(p + 1),
        _ => plx(t, p),
    }
}

/// W3C's PN_LOCAL: `first (?:(?:LOCAL_CHAR|\.)*(?:LOCAL_CHAR))?`. The units (a character, or an
/// escape of 2 or 3) cut one way only, so the match ends after the last LOCAL_CHAR of the longest
/// run of units: backtracking only gives back trailing dots.
fn pn_local(t: &[char], p: usize) -> Option<usize> {
    let mut end = local_first(t, p)?;
    let mut q = end;
    loop {
        if let Some(e) = local_char(t, q) {
            q = e;
            end = e;
        } else if at(t, q) == Some('.') {
            q += 1;
        } else {
            return Some(end);
        }
    }
}

/// Oxigraph's PN_LOCAL: `first (?:LOCAL_CHAR)* (?:\.+(?:LOCAL_CHAR)+)?` (one run of dots inside).
fn pn_local_oxigraph(t: &[char], p: usize) -> Option<usize> {
    let mut q = local_first(t, p)?;
    while let Some(e) = local_char(t, q) {
        q = e;
    }
    let dots = run(t, q, |c| c == '.');
    if dots > q {
        if let Some(mut e) = local_char(t, dots) {
            while let Some(next) = local_char(t, e) {
                e = next;
            }
            q = e;
        }
    }
    Some(q)
}

/// `(?:PN_PREFIX)?:(?:PN_LOCAL)?` with PN_PREFIX = `[BASE](?:[PN_CHARS.]*[PN_CHARS])?`. A prefix
/// ends right before the colon and the colon is no PN_CHARS, so the only prefix that can be
/// followed by one is the whole run after the first character, when it does not end in a dot.
fn pname(t: &[char], p: usize, oxigraph: bool) -> Option<usize> {
    let mut colon = None;
    if at(t, p).map_or(false, pn_chars_base) {
        let q = run(t, p + 1, |c| pn_chars(c) || c == '.');
        if at(t, q) == Some(':') && (q == p + 1 || t[q - 1] != '.') {
            colon = Some(q);
        }
    }
    let colon = match colon {
        Some(c) => c,
        None if at(t, p) == Some(':') => p,
        None => return None,
    };
    let local = if oxigraph { pn_local_oxigraph(t, colon + 1) } else { pn_local(t, colon + 1) };
    Some(local.unwrap_or(colon + 1))
}

// --- terminals -----------------------------------------------------------------------------------

/// `[ \t\r\n]+`
fn ws(t: &[char], p: usize) -> Option<usize> {
    let e = run(t, p, |c| matches!(c, ' ' | '\t' | '\r' | '\n'));
    if e > p {
        Some(e)
    } else {
        None
    }
}

/// `#[^\r\n]*`
fn comment(t: &[char], p: usize) -> Option<usize> {
    if at(t, p)? == '#' {
        Some(run(t, p + 1, |c| c != '\r' && c != '\n'))
    } else {
        None
    }
}

/// `[?$]VARNAME`
fn var(t: &[char], p: usize) -> Option<usize> {
    let c = at(t, p)?;
    if (c == '?' || c == '$') && at(t, p + 1).map_or(false, |c| pn_chars_u(c) || c.is_ascii_digit()) {
        Some(run(t, p + 2, |c| pn_chars_u(c) || c.is_ascii_digit() || name_extra(c)))
    } else {
        None
    }
}

/// `[A-Za-z_][A-Za-z0-9_]*+(?![PN_CHARS.:])`: possessive, so a word that a name character, a dot
/// or a colon follows is no word at all (another terminal takes it).
fn word(t: &[char], p: usize) -> Option<usize> {
    let c = at(t, p)?;
    if !(c.is_ascii_alphabetic() || c == '_') {
        return None;
    }
    let e = run(t, p + 1, |c| c.is_ascii_alphanumeric() || c == '_');
    match at(t, e) {
        Some(c) if pn_chars(c) || c == '.' || c == ':' => None,
        _ => Some(e),
    }
}

/// `[{}();,*]|\^\^|&&|\|\||!=|>=|<=(?![^<>"{}|^`\\\x00-\x20]*>)`
fn punct(t: &[char], p: usize) -> Option<usize> {
    let c = at(t, p)?;
    if "{}();,*".contains(c) {
        return Some(p + 1);
    }
    let next = at(t, p + 1);
    match (c, next) {
        ('^', Some('^')) | ('&', Some('&')) | ('|', Some('|')) | ('!', Some('=')) | ('>', Some('=')) => Some(p + 2),
        ('<', Some('=')) => {
            let e = run(t, p + 2, iri_char);
            if at(t, e) == Some('>') {
                None
            } else {
                Some(p + 2)
            }
        }
        _ => None,
    }
}

/// `<(?:[^<>"{}|^`\\\x00-\x20]|UCHAR)*>`: a backslash only as an escape, so the run stops at the
/// first character that is neither, which must be the closing `>`.
fn iri(t: &[char], p: usize) -> Option<usize> {
    if at(t, p)? != '<' {
        return None;
    }
    let mut q = p + 1;
    loop {
        match at(t, q) {
            Some(c) if iri_char(c) => q += 1,
            Some('\\') => match uchar(t, q) {
                Some(e) => q = e,
                None => break,
            },
            _ => break,
        }
    }
    if at(t, q) == Some('>') {
        Some(q + 1)
    } else {
        None
    }
}

/// A string's character other than its quote: `[^q\\]|ECHAR|UCHAR` (with `short`, no line end).
fn string_unit(t: &[char], p: usize, quote: char, short: bool) -> Option<usize> {
    match at(t, p)? {
        '\\' => echar(t, p).or_else(|| uchar(t, p)),
        c if c == quote || (short && (c == '\n' || c == '\r')) => None,
        _ => Some(p + 1),
    }
}

/// `'''(?:(?:'|'')?(?:[^'\\]|ECHAR|UCHAR))*'''` (and with `"`). Each step of the loop has at most
/// one way to match (one or two quotes, then a character that is no quote), and it cannot step
/// over three quotes, so the only place the closing quotes can match is where the steps end.
fn string_long(t: &[char], p: usize, quote: char) -> Option<usize> {
    let is_q = |i: usize| at(t, i) == Some(quote);
    if !(is_q(p) && is_q(p + 1) && is_q(p + 2)) {
        return None;
    }
    let mut q = p + 3;
    loop {
        if is_q(q) && is_q(q + 1) && is_q(q + 2) {
            return Some(q + 3);
        }
        let quotes = if is_q(q) { if is_q(q + 1) { 2 } else { 1 } } else { 0 };
        q = string_unit(t, q + quotes, quote, false)?;
    }
}

/// `'(?:[^'\\\n\r]|ECHAR|UCHAR)*'` (and with `"`).
fn string_short(t: &[char], p: usize, quote: char) -> Option<usize> {
    if at(t, p)? != quote {
        return None;
    }
    let mut q = p + 1;
    loop {
        if at(t, q)? == quote {
            return Some(q + 1);
        }
        q = string_unit(t, q, quote, true)?;
    }
}

fn string(t: &[char], p: usize) -> Option<usize> {
    let quote = at(t, p)?;
    if quote != '\'' && quote != '"' {
        return None;
    }
    string_long(t, p, quote).or_else(|| string_short(t, p, quote))
}

fn digits(t: &[char], p: usize) -> usize {
    run(t, p, |c| c.is_ascii_digit())
}

/// `[eE][+-]?[0-9]+`
fn exponent(t: &[char], p: usize) -> Option<usize> {
    if !matches!(at(t, p)?, 'e' | 'E') {
        return None;
    }
    let q = if matches!(at(t, p + 1), Some('+') | Some('-')) { p + 2 } else { p + 1 };
    let e = digits(t, q);
    if e > q {
        Some(e)
    } else {
        None
    }
}

/// `[0-9]+\.[0-9]*EXP | \.[0-9]+EXP | [0-9]+EXP | [0-9]*\.[0-9]+ | [0-9]+`, first that matches.
fn number(t: &[char], p: usize) -> Option<usize> {
    let int_end = digits(t, p);
    let has_int = int_end > p;
    let dot = at(t, int_end) == Some('.');
    let frac_end = if dot { digits(t, int_end + 1) } else { int_end };
    if has_int && dot {
        if let Some(e) = exponent(t, frac_end) {
            return Some(e);
        }
    }
    if !has_int && dot && frac_end > int_end + 1 {
        if let Some(e) = exponent(t, frac_end) {
            return Some(e);
        }
    }
    if has_int {
        if let Some(e) = exponent(t, int_end) {
            return Some(e);
        }
    }
    if dot && frac_end > int_end + 1 {
        return Some(frac_end);
    }
    if has_int {
        Some(int_end)
    } else {
        None
    }
}

/// `_:[PN_CHARS_U0-9](?:[PN_CHARS.]*[PN_CHARS])?`: trailing dots given back.
fn bnode(t: &[char], p: usize) -> Option<usize> {
    if at(t, p)? != '_' || at(t, p + 1)? != ':' || !at(t, p + 2).map_or(false, |c| pn_chars_u(c) || c.is_ascii_digit()) {
        return None;
    }
    let mut end = p + 3;
    let mut q = end;
    while let Some(c) = at(t, q) {
        if pn_chars(c) {
            q += 1;
            end = q;
        } else if c == '.' {
            q += 1;
        } else {
            break;
        }
    }
    Some(end)
}

/// `[PN_CHARS_U][PN_CHARS_U0-9]*` (a word to the scans).
fn name(t: &[char], p: usize) -> Option<usize> {
    if at(t, p).map_or(false, pn_chars_u) {
        Some(run(t, p + 1, |c| pn_chars_u(c) || c.is_ascii_digit()))
    } else {
        None
    }
}

/// `@[a-zA-Z]+(?:-[a-zA-Z0-9]+)*(?:--[a-zA-Z]+)?`
fn langtag(t: &[char], p: usize) -> Option<usize> {
    if at(t, p)? != '@' {
        return None;
    }
    let mut q = run(t, p + 1, |c| c.is_ascii_alphabetic());
    if q == p + 1 {
        return None;
    }
    while at(t, q) == Some('-') && at(t, q + 1).map_or(false, |c| c.is_ascii_alphanumeric()) {
        q = run(t, q + 1, |c| c.is_ascii_alphanumeric());
    }
    if at(t, q) == Some('-') && at(t, q + 1) == Some('-') && at(t, q + 2).map_or(false, |c| c.is_ascii_alphabetic()) {
        q = run(t, q + 2, |c| c.is_ascii_alphabetic());
    }
    Some(q)
}

/// `[<.\[\]/|^=>!+\-?]` (punctuation to the scans).
fn op(t: &[char], p: usize) -> Option<usize> {
    if "<.[]/|^=>!+-?".contains(at(t, p)?) {
        Some(p + 1)
    } else {
        None
    }
}

/// The code terminals in `_TERMINALS` order (white space and comments apart): the first that
/// matches at `p` is the token, as the alternation of `_CODE_PATTERN` takes it.
fn code_token(t: &[char], p: usize) -> Token {
    let tries: [(u32, fn(&[char], usize) -> Option<usize>); 11] = [
        (VAR, var),
        (WORD, word),
        (PUNCT, punct),
        (PNAME, |t, p| pname(t, p, false)),
        (IRI, iri),
        (STRING, string),
        (NUMBER, number),
        (BNODE, bnode),
        (WORD, name),
        (LANGTAG, langtag),
        (PUNCT, op),
    ];
    for (kind, matcher) in tries.iter() {
        if let Some(end) = matcher(t, p) {
            return (*kind, p, end);
        }
    }
    (JUNK, p, p + 1)
}

/// The whole-text tokenizer's token at `p` (`_token_re`): white space and comments included.
fn any_token(t: &[char], p: usize) -> Token {
    if let Some(e) = ws(t, p) {
        return (WS, p, e);
    }
    let tok = code_token(t, p);
    // `_TERMINALS` tries comments after strings and before numbers: no terminal before it starts
    // with `#`, so only a token that begins there can be a comment.
    if tok.0 == JUNK || at(t, p) == Some('#') {
        if let Some(e) = comment(t, p) {
            return (COMMENT, p, e);
        }
    }
    tok
}

/// `querytext._lex_code`: the code tokens of `t` from `pos`.
pub fn lex_code(t: &[char], pos: usize) -> Vec<Token> {
    let mut out = Vec::new();
    let mut p = pos;
    loop {
        loop {
            if let Some(e) = ws(t, p) {
                p = e;
            } else if let Some(e) = comment(t, p) {
                p = e;
            } else {
                break;
            }
        }
        if p >= t.len() {
            return out;
        }
        let tok = code_token(t, p);
        p = tok.2;
        out.push(tok);
    }
}

#[derive(Clone, Copy, PartialEq, Eq, Hash)]
enum Before {
    Nothing,
    Operand,
    Prefix,
}

/// `querytext._role`: what a token means for a `<` right after it.
fn role(t: &[char], kind: u32, start: usize, end: usize, before: Before) -> Before {
    match kind {
        PNAME if before == Before::Prefix => Before::Nothing,
        VAR | STRING | NUMBER | IRI | PNAME | LANGTAG | BNODE | JUNK => Before::Operand,
        PUNCT if end == start + 1 && matches!(t[start], ')' | ']' | '}') => Before::Operand,
        WORD => {
            let lower: String = t[start..end].iter().collect::<String>().to_lowercase();
            if lower == "prefix" {
                Before::Prefix
            } else if lower.ends_with("true") || lower.ends_with("false") {
                Before::Operand
            } else {
                Before::Nothing
            }
        }
        _ => Before::Nothing,
    }
}

/// `querytext._all_readings`: every token that starts where some reading of `t` puts one, in the
/// order the Python scan yields them; None when the text is too intricate for the work budget
/// (`budget_per_char` per character and 10,000 more: `SCAN_BUDGET_PER_CHAR` in the endpoint).
pub fn all_readings(t: &[char], budget_per_char: i64) -> Option<Vec<Token>> {
    let n = t.len();
    let mut budget = budget_per_char * n as i64 + 10_000;
    let mut todo: Vec<(usize, Before)> = vec![(0, Before::Nothing)];
    let mut seen = std::collections::HashSet::new();
    let mut out = Vec::new();
    let mut steps: Vec<(u32, usize)> = Vec::with_capacity(4);
    while let Some(state) = todo.pop() {
        let (pos, before) = state;
        if pos >= n || !seen.insert(state) {
            continue;
        }
        steps.clear();
        let c = t[pos];
        if c == '<' {
            let m = iri(t, pos);
            if let Some(e) = m {
                steps.push((IRI, e));
            }
            let opens = m.map_or(false, |e| t[pos..e].iter().any(|&c| c == '\'' || c == '#'));
            if m.is_none() || (before == Before::Operand && opens) {
                steps.push((PUNCT, pos + 1));
            }
        } else if c == '\'' || c == '"' {
            for e in [string_long(t, pos, c), string_short(t, pos, c)].iter().flatten() {
                steps.push((STRING, *e));
                budget -= (*e - pos) as i64;
            }
        } else {
            let (kind, _, e) = any_token(t, pos);
            steps.push((kind, e));
            budget -= (e - pos) as i64;
            if kind == PNAME {
                if let Some(alt) = pname(t, pos, true) {
                    if alt != e {
                        steps.push((PNAME, alt));
                    }
                }
            }
        }
        if steps.is_empty() {
            steps.push((JUNK, pos + 1));
        }
        budget -= 1;
        if budget < 0 {
            return None;
        }
        for &(kind, end) in steps.iter() {
            out.push((kind, pos, end));
            let next = if kind == WS || kind == COMMENT { before } else { role(t, kind, pos, end, before) };
            todo.push((end, next));
        }
    }
    Some(out)
}

// --- the plain query: every decision taken here, or none -----------------------------------------

/// `querytext.MAX_DEPTH`, `MAX_TOKENS`, `MAX_OPERATORS`, `_PROLOGUE_WORTH_CACHING`.
pub const MAX_DEPTH: usize = 100;
pub const MAX_TOKENS: usize = 60_000;
pub const MAX_OPERATORS: usize = 1500;
pub const PROLOGUE_WORTH_CACHING: usize = 200;

const FORMS: [&str; 4] = ["SELECT", "ASK", "CONSTRUCT", "DESCRIBE"];
const UPDATES: [&str; 10] = ["INSERT", "DELETE", "LOAD", "CLEAR", "CREATE", "DROP", "COPY", "MOVE", "ADD", "WITH"];
const CHAIN_PUNCT: [&str; 18] = ["+", "-", "*", "/", "|", "||", "&&", "!", "=", "!=", "<", ">", "<=", ">=", "^", ".",
                                 ";", ","];
const CHAIN_WORDS: [&str; 10] = ["UNION", "OPTIONAL", "MINUS", "BIND", "FILTER", "VALUES", "SERVICE", "GRAPH", "IN",
                                 "EXISTS"];

/// What the endpoint must know to tell Wikidata's vocabulary (`cowkg.wdqs`): its namespaces, and
/// the predeclared prefixes (name, namespace: `vocab.PREFIXES`) a query may use undeclared.
pub struct Wikidata {
    pub namespaces: Vec<String>,
    pub predeclared: std::collections::HashMap<String, String>,
}

/// A query every decision of which is the plain one: one of the four forms, no SERVICE in any
/// reading, no FROM, no BASE, not ``SELECT *``, nothing of Wikidata's vocabulary, within the
/// limits. `form` is an index into SELECT, ASK, CONSTRUCT, DESCRIBE; `cache_text` the key of the
/// response cache (`ParsedQuery.cache_text`); `group_concat` where each ``GROUP_CONCAT(...)``
/// starts and ends, to be wrapped in ``STR(...)`` (`ParsedQuery._group_concat_edits`); `names_graphs`
/// whether a GRAPH pattern may read a named graph.
#[derive(Debug, PartialEq, Eq)]
pub struct Plain {
    pub form: usize,
    pub cache_text: String,
    pub group_concat: Vec<(usize, usize)>,
    /// Whether the query may hold the keyword GRAPH (`ParsedQuery.may_name_graphs`).
    pub names_graphs: bool,
}

/// `_PROLOGUE_PATTERN` anchored at the start: white space, comments that end with a line end,
/// ``PREFIX name: <iri>`` and ``BASE <iri>`` (no escape in either IRI), the first alternative that
/// matches each time; where nothing more matches, the prologue ends.
fn prologue_end(t: &[char]) -> usize {
    let word_at = |p: usize, w: &str| -> bool {
        w.chars().enumerate().all(|(i, c)| at(t, p + i).map_or(false, |x| x.to_ascii_uppercase() == c))
    };
    let spaces = |p: usize| run(t, p, |c| matches!(c, ' ' | '\t' | '\r' | '\n'));
    let iri_plain = |p: usize| -> Option<usize> {
        if at(t, p)? != '<' {
            return None;
        }
        let e = run(t, p + 1, iri_char);
        if at(t, e) == Some('>') {
            Some(e + 1)
        } else {
            None
        }
    };
    let mut p = 0;
    loop {
        if let Some(e) = ws(t, p) {
            p = e;
            continue;
        }
        if at(t, p) == Some('#') {
            let e = run(t, p + 1, |c| c != '\r' && c != '\n');
            if at(t, e) == Some('\n') {
                p = e + 1;
                continue;
            }
            return p;
        }
        if word_at(p, "PREFIX") {
            let q = spaces(p + 6);
            if q > p + 6 {
                // (?:PN_PREFIX)?: as in `pname`
                let mut colon = None;
                if at(t, q).map_or(false, pn_chars_base) {
                    let r = run(t, q + 1, |c| pn_chars(c) || c == '.');
                    if at(t, r) == Some(':') && (r == q + 1 || t[r - 1] != '.') {
                        colon = Some(r);
                    }
                }
                if colon.is_none() && at(t, q) == Some(':') {
                    colon = Some(q);
                }
                if let Some(c) = colon {
                    if let Some(e) = iri_plain(spaces(c + 1)) {
                        p = e;
                        continue;
                    }
                }
            }
        }
        if word_at(p, "BASE") {
            if let Some(e) = iri_plain(spaces(p + 4)) {
                p = e;
                continue;
            }
        }
        return p;
    }
}

/// `_namespace_could_be_wikidata`
fn could_be_wikidata(namespace: &str, wd: &Wikidata) -> bool {
    wd.namespaces.iter().any(|ns| namespace.starts_with(ns.as_str()) || ns.starts_with(namespace))
}

/// The plain decisions of `t`, or None when any of them is not the plain one (or the text holds a
/// backslash, a word past ASCII, or one of the two characters whose lower case is partly ASCII):
/// the Python parse then decides everything, as before. Never a refusal: a text that breaks a
/// limit or holds an update or a SERVICE is simply not plain.
pub fn plain(t: &[char], wd: &Wikidata) -> Option<Plain> {
    // Python's ``lowered`` is the Unicode lower case; the only characters whose lower case holds an
    // ASCII letter are U+0130 (i and a dot) and U+212A (k): without them (and escapes), a keyword is
    // in Python's lower case exactly when it is in the ASCII lower case.
    if t.iter().any(|&c| c == '\\' || c == '\u{130}' || c == '\u{212A}') {
        return None;
    }
    let text: String = t.iter().collect();
    // Byte offset of each character: tokens count characters, as Python does.
    let mut offsets: Vec<usize> = text.char_indices().map(|(i, _)| i).collect();
    offsets.push(text.len());
    let sl = |a: usize, b: usize| -> &str { &text[offsets[a]..offsets[b]] };
    let lowered = text.to_ascii_lowercase();
    if lowered.contains("service") || lowered.contains("from") {
        return None;
    }
    let code = lex_code(t, 0);
    if code.len() > MAX_TOKENS {
        return None;
    }
    // `_depth_of` (a closing bracket too many takes the depth below zero) and the operator count.
    let (mut depth, mut operators) = (0i64, 0usize);
    for tok in code.iter() {
        let value = sl(tok.1, tok.2);
        // Python upper-cases words the Unicode way (``ſelect`` is SELECT to it, not to the engine):
        // a word with a character past ASCII is left to it.
        if tok.0 == WORD && !value.is_ascii() {
            return None;
        }
        if tok.0 == PUNCT {
            match t[tok.1] {
                '{' | '(' | '[' => {
                    depth += 1;
                    if depth > MAX_DEPTH as i64 {
                        return None;
                    }
                }
                '}' | ')' | ']' => depth -= 1,
                _ => {}
            }
            if CHAIN_PUNCT.contains(&value) {
                operators += 1;
            }
        } else if tok.0 == WORD && CHAIN_WORDS.contains(&value.to_ascii_uppercase().as_str()) {
            operators += 1;
        }
    }
    if operators > MAX_OPERATORS {
        return None;
    }
    // The prologue: cached (read once, kept) when long enough; its declarations and any that follow.
    let end = prologue_end(t);
    let cached = end >= PROLOGUE_WORTH_CACHING;
    let split = if cached { code.iter().position(|tok| tok.1 >= end).unwrap_or(code.len()) } else { 0 };
    // `_declarations`: the leading PREFIX declarations (the last of a name counts); a BASE is not plain.
    let mut declared: std::collections::HashMap<String, String> = std::collections::HashMap::new();
    let mut i = 0;
    while i < code.len() {
        let word = if code[i].0 == WORD { sl(code[i].1, code[i].2).to_ascii_uppercase() } else { String::new() };
        if word == "PREFIX" && i + 2 < code.len() && code[i + 1].0 == PNAME && code[i + 2].0 == IRI {
            if let Some(name) = sl(code[i + 1].1, code[i + 1].2).strip_suffix(':') {
                declared.insert(name.to_string(), sl(code[i + 2].1 + 1, code[i + 2].2 - 1).to_string());
            }
            i += 3;
        } else if word == "BASE" && i + 1 < code.len() && code[i + 1].0 == IRI {
            return None;
        } else {
            break;
        }
    }
    // `wdqs._names_wikidata_iri`: an IRI past the cached prologue, written out or as a prefixed
    // name, in one of Wikidata's namespaces (a declaration is not a use). Such a query reads the
    // Wikibase view: not plain.
    let body_tokens = if cached { &code[split..] } else { &code[..] };
    let is_prefix_word = |tok: &Token| tok.0 == WORD && sl(tok.1, tok.2).eq_ignore_ascii_case("PREFIX");
    for (i, tok) in body_tokens.iter().enumerate() {
        let iri = match tok.0 {
            IRI => {
                if i >= 2 && body_tokens[i - 1].0 == PNAME && is_prefix_word(&body_tokens[i - 2]) {
                    continue;
                }
                sl(tok.1 + 1, tok.2 - 1).to_string()
            }
            PNAME => {
                if i >= 1 && is_prefix_word(&body_tokens[i - 1]) {
                    continue;
                }
                let value = sl(tok.1, tok.2);
                let colon = value.find(':').unwrap_or(value.len());
                let namespace = match declared.get(&value[..colon]).or_else(|| wd.predeclared.get(&value[..colon])) {
                    Some(ns) => ns,
                    None => continue,
                };
                if !could_be_wikidata(namespace, wd) {
                    continue;
                }
                format!("{}{}", namespace, &value[(colon + 1).min(value.len())..])
            }
            _ => continue,
        };
        if wd.namespaces.iter().any(|ns| iri.starts_with(ns.as_str())) {
            return None;
        }
    }
    // `head`: the code tokens past the cached prologue up to three past the first keyword of a
    // form or an update; `form` its first such keyword (an update is not plain); `select_star`
    // whether its first SELECT is followed, past DISTINCT or REDUCED, by `*`.
    let past = &code[split..];
    let upper = |tok: &Token| sl(tok.1, tok.2).to_ascii_uppercase();
    let mut head_len = past.len();
    let mut after: i32 = -1;
    for (j, tok) in past.iter().enumerate() {
        let keyword = tok.0 == WORD && {
            let w = upper(tok);
            FORMS.contains(&w.as_str()) || UPDATES.contains(&w.as_str())
        };
        if after < 0 && keyword {
            after = 3;
        } else if after > 0 {
            after -= 1;
        }
        if after == 0 {
            head_len = j + 1;
            break;
        }
    }
    let head = &past[..head_len];
    let mut form = None;
    for tok in head.iter().filter(|tok| tok.0 == WORD) {
        let w = upper(tok);
        if UPDATES.contains(&w.as_str()) {
            return None;
        }
        if let Some(f) = FORMS.iter().position(|&f| f == w) {
            form = Some(f);
            break;
        }
    }
    if let Some(i) = head.iter().position(|tok| tok.0 == WORD && upper(tok) == "SELECT") {
        let mut j = i + 1;
        if j < head.len() && matches!(upper(&head[j]).as_str(), "DISTINCT" | "REDUCED") {
            j += 1;
        }
        if j < head.len() && sl(head[j].1, head[j].2) == "*" {
            return None;
        }
    }
    let form = form?;
    // The cache key: the code tokens, one space between them, unless the text could be read
    // another way (a junk character, an IRI past the prologue holding a quote or a '#').
    let unsure = body_tokens.iter().any(|tok| {
        tok.0 == JUNK || (tok.0 == IRI && sl(tok.1, tok.2).chars().any(|c| c == '\'' || c == '"' || c == '#'))
    });
    let cache_text = if unsure {
        text.clone()
    } else {
        let words: Vec<&str> = body_tokens.iter().map(|tok| sl(tok.1, tok.2)).collect();
        if cached {
            let layout: Vec<&str> = code[..split].iter().map(|tok| sl(tok.1, tok.2)).collect();
            format!("{} {}", layout.join(" "), words.join(" "))
        } else {
            words.join(" ")
        }
    };
    // `_group_concat_edits`: each GROUP_CONCAT past the cached prologue followed by "(", to the
    // parenthesis that closes it.
    let mut group_concat = Vec::new();
    if lowered.contains("group_concat") {
        for (i, tok) in body_tokens.iter().enumerate() {
            if tok.0 != WORD || tok.2 - tok.1 != 12 || upper(tok) != "GROUP_CONCAT" || i + 1 >= body_tokens.len()
                || sl(body_tokens[i + 1].1, body_tokens[i + 1].2) != "(" {
                continue;
            }
            let mut depth = 0i64;
            for t2 in body_tokens[i + 1..].iter() {
                if t2.0 == PUNCT {
                    match sl(t2.1, t2.2) {
                        "(" => depth += 1,
                        ")" => depth -= 1,
                        _ => {}
                    }
                }
                if depth == 0 {
                    group_concat.push((tok.1, t2.2));
                    break;
                }
            }
        }
    }
    // `ParsedQuery.may_name_graphs`: the keyword GRAPH among the code tokens, or, where the text
    // could be read another way, the word anywhere.
    let names_graphs = if unsure {
        lowered.contains("graph")
    } else {
        body_tokens.iter().any(|tok| tok.0 == WORD && tok.2 - tok.1 == 5 && upper(tok) == "GRAPH")
    };
    Some(Plain { form, cache_text, group_concat, names_graphs })
}

// --- C interface (ctypes) ------------------------------------------------------------------------

/// The version of this C interface: `cowkg.native` refuses a library built from another one (a
/// checkout updated without `scripts/setup.sh`), which would read its arguments wrongly.
pub const ABI_VERSION: u32 = 2;

/// `ABI_VERSION`, for `cowkg.native` to check before it calls anything else.
#[no_mangle]
pub extern "C" fn cowkg_abi_version() -> u32 {
    ABI_VERSION
}

/// `work()`, or -3 if it panicked (a bug): the caller then reads the text in Python. A panic must
/// not unwind into the caller, nor end the server process it runs in.
fn guarded(work: impl FnOnce() -> i64) -> i64 {
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(work)).unwrap_or(-3)
}

unsafe fn text_of(text: *const u8, len: usize) -> Option<Vec<char>> {
    let bytes = std::slice::from_raw_parts(text, len);
    std::str::from_utf8(bytes).ok().map(|s| s.chars().collect())
}

unsafe fn write_tokens(tokens: &[Token], out: *mut u32, capacity: usize) -> i64 {
    let out = std::slice::from_raw_parts_mut(out, capacity);
    for (i, &(kind, start, end)) in tokens.iter().enumerate().take(capacity / 3) {
        out[3 * i] = kind;
        out[3 * i + 1] = start as u32;
        out[3 * i + 2] = end as u32;
    }
    tokens.len() as i64
}

/// The code tokens of the UTF-8 `text` from code point `pos`, as (kind, start, end) triples into
/// `out` (room for `capacity` numbers). Returns how many tokens there are (call again with more
/// room when that is more than `capacity / 3`), or -2 when the text is not UTF-8.
///
/// # Safety
/// `text` must point to `len` readable bytes and `out` to `capacity` writable u32.
#[no_mangle]
pub unsafe extern "C" fn cowkg_lex_code(text: *const u8, len: usize, pos: usize, out: *mut u32, capacity: usize) -> i64 {
    guarded(|| match text_of(text, len) {
        Some(t) => write_tokens(&lex_code(&t, pos), out, capacity),
        None => -2,
    })
}

/// Every token of every reading of the UTF-8 `text` (see `all_readings`, with `budget_per_char`),
/// as `cowkg_lex_code` writes them; -1 when the text is too intricate for the work budget, -2
/// when it is not UTF-8.
///
/// # Safety
/// As `cowkg_lex_code`.
#[no_mangle]
pub unsafe extern "C" fn cowkg_all_readings(text: *const u8, len: usize, budget_per_char: i64, out: *mut u32,
                                            capacity: usize) -> i64 {
    guarded(|| match text_of(text, len) {
        Some(t) => match all_readings(&t, budget_per_char) {
            Some(tokens) => write_tokens(&tokens, out, capacity),
            None => -1,
        },
        None => -2,
    })
}

/// The plain decisions of the UTF-8 `text` (see `plain`), Wikidata's vocabulary given as two
/// lines in `wikidata`: its namespaces, and the predeclared prefixes as `name=namespace`, each
/// separated by spaces. Returns the form (0 SELECT, 1 ASK, 2 CONSTRUCT, 3 DESCRIBE), plus 4 when the
/// query may hold the keyword GRAPH, with the cache key's
/// UTF-8 bytes in `key` (its length in `key_length`) and the (start, end) code-point offsets of
/// each GROUP_CONCAT in `spans` (how many numbers in `spans_length`): call again with more room
/// when either is more than its capacity. -1 when the text is not plain, -2 when either text is
/// not UTF-8, -3 on a bug (a panic, caught: `guarded`).
///
/// # Safety
/// `text` and `wikidata` must point to `len` and `wikidata_len` readable bytes, `key` to
/// `capacity` writable bytes, `spans` to `spans_capacity` writable u32, `key_length` and
/// `spans_length` to one writable usize each.
#[no_mangle]
pub unsafe extern "C" fn cowkg_plain(text: *const u8, len: usize, wikidata: *const u8, wikidata_len: usize,
                                     key: *mut u8, capacity: usize, key_length: *mut usize, spans: *mut u32,
                                     spans_capacity: usize, spans_length: *mut usize) -> i64 {
    guarded(|| {
        let t = match text_of(text, len) {
            Some(t) => t,
            None => return -2,
        };
        let wd = match std::str::from_utf8(std::slice::from_raw_parts(wikidata, wikidata_len)) {
            Ok(s) => {
                let mut lines = s.split('\n').map(|l| l.split_whitespace().map(String::from).collect::<Vec<_>>());
                let namespaces = lines.next().unwrap_or_default();
                let predeclared = lines.next().unwrap_or_default().into_iter()
                    .filter_map(|pair| pair.split_once('=').map(|(n, ns)| (n.to_string(), ns.to_string())))
                    .collect();
                Wikidata { namespaces, predeclared }
            }
            Err(_) => return -2,
        };
        match plain(&t, &wd) {
            Some(p) => {
                let bytes = p.cache_text.as_bytes();
                *key_length = bytes.len();
                if bytes.len() <= capacity {
                    std::ptr::copy_nonoverlapping(bytes.as_ptr(), key, bytes.len());
                }
                *spans_length = 2 * p.group_concat.len();
                if 2 * p.group_concat.len() <= spans_capacity {
                    let out = std::slice::from_raw_parts_mut(spans, spans_capacity);
                    for (i, &(start, end)) in p.group_concat.iter().enumerate() {
                        out[2 * i] = start as u32;
                        out[2 * i + 1] = end as u32;
                    }
                }
                p.form as i64 + if p.names_graphs { 4 } else { 0 }
            }
            None => -1,
        }
    })
}
