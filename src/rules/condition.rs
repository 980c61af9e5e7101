//! Sigma detection conditions: `sel1 and not (sel2 or 1 of filter_*)`, parsed into a tree over
//! selection indices. Precedence: `not` > `and` > `or`.

#[derive(Debug, Clone, PartialEq)]
pub enum Cond {
    Sel(usize),
    Not(Box<Cond>),
    And(Vec<Cond>),
    Or(Vec<Cond>),
}

impl Cond {
    /// Evaluates with `sel(i)` giving selection `i`'s result, short-circuiting.
    #[inline]
    pub fn eval(&self, sel: &mut impl FnMut(usize) -> bool) -> bool {
        match self {
            Cond::Sel(i) => sel(*i),
            Cond::Not(c) => !c.eval(sel),
            Cond::And(cs) => cs.iter().all(|c| c.eval(sel)),
            Cond::Or(cs) => cs.iter().any(|c| c.eval(sel)),
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
enum Token {
    Ident(String),
    And,
    Or,
    Not,
    Open,
    Close,
    /// `1 of` / `any of` / `all of`: whether all are required.
    Of(bool),
    Them,
}

fn tokenize(text: &str) -> Result<Vec<Token>, String> {
    let mut tokens = Vec::new();
    let mut words = Vec::new();
    let mut current = String::new();
    for c in text.chars() {
        match c {
            '(' | ')' => {
                if !current.is_empty() {
                    words.push(std::mem::take(&mut current));
                }
                words.push(c.to_string());
            }
            c if c.is_whitespace() => {
                if !current.is_empty() {
                    words.push(std::mem::take(&mut current));
                }
            }
            c => current.push(c),
        }
    }
    if !current.is_empty() {
        words.push(current);
    }
    let mut i = 0;
    while i < words.len() {
        let word = words[i].as_str();
        let lower = word.to_ascii_lowercase();
        let next_is_of = words
            .get(i + 1)
            .is_some_and(|w| w.eq_ignore_ascii_case("of"));
        let token = match lower.as_str() {
            "(" => Token::Open,
            ")" => Token::Close,
            "and" => Token::And,
            "or" => Token::Or,
            "not" => Token::Not,
            "them" => Token::Them,
            "1" | "any" if next_is_of => {
                i += 1;
                Token::Of(false)
            }
            "all" if next_is_of => {
                i += 1;
                Token::Of(true)
            }
            "of" => return Err("`of` needs `1`, `any` or `all` before it".into()),
            _ if word.chars().next().is_some_and(|c| c.is_ascii_digit()) && next_is_of => {
                return Err(format!(
                    "`{word} of` is not supported (Sigma allows `1 of` and `all of`)"
                ));
            }
            _ => {
                if word.contains('|') {
                    return Err(format!(
                        "`{word}`: aggregation pipes (`| count()`) are Sigma v1; use a correlation rule"
                    ));
                }
                Token::Ident(word.to_owned())
            }
        };
        tokens.push(token);
        i += 1;
    }
    Ok(tokens)
}

/// Parses a condition against the rule's selection names.
pub fn parse(text: &str, selections: &[String]) -> Result<Cond, String> {
    let tokens = tokenize(text)?;
    if tokens.is_empty() {
        return Err("condition is empty".into());
    }
    let mut parser = CondParser {
        tokens,
        pos: 0,
        selections,
    };
    let cond = parser.or()?;
    if parser.pos < parser.tokens.len() {
        return Err(format!(
            "condition: unexpected {} at word {}",
            describe(&parser.tokens[parser.pos]),
            parser.pos + 1
        ));
    }
    Ok(cond)
}

fn describe(token: &Token) -> String {
    match token {
        Token::Ident(s) => format!("`{s}`"),
        Token::And => "`and`".into(),
        Token::Or => "`or`".into(),
        Token::Not => "`not`".into(),
        Token::Open => "`(`".into(),
        Token::Close => "`)`".into(),
        Token::Of(all) => if *all { "`all of`" } else { "`1 of`" }.into(),
        Token::Them => "`them`".into(),
    }
}

struct CondParser<'s> {
    tokens: Vec<Token>,
    pos: usize,
    selections: &'s [String],
}

impl CondParser<'_> {
    fn peek(&self) -> Option<&Token> {
        self.tokens.get(self.pos)
    }

    fn or(&mut self) -> Result<Cond, String> {
        let mut items = vec![self.and()?];
        while self.peek() == Some(&Token::Or) {
            self.pos += 1;
            items.push(self.and()?);
        }
        Ok(if items.len() == 1 {
            items.remove(0)
        } else {
            Cond::Or(items)
        })
    }

    fn and(&mut self) -> Result<Cond, String> {
        let mut items = vec![self.not()?];
        while self.peek() == Some(&Token::And) {
            self.pos += 1;
            items.push(self.not()?);
        }
        Ok(if items.len() == 1 {
            items.remove(0)
        } else {
            Cond::And(items)
        })
    }

    fn not(&mut self) -> Result<Cond, String> {
        if self.peek() == Some(&Token::Not) {
            self.pos += 1;
            return Ok(Cond::Not(Box::new(self.not()?)));
        }
        self.atom()
    }

    fn atom(&mut self) -> Result<Cond, String> {
        let Some(token) = self.tokens.get(self.pos).cloned() else {
            return Err("condition: ends where a selection was expected".into());
        };
        self.pos += 1;
        match token {
            Token::Open => {
                let inner = self.or()?;
                if self.peek() != Some(&Token::Close) {
                    return Err("condition: `(` without a matching `)`".into());
                }
                self.pos += 1;
                Ok(inner)
            }
            Token::Ident(name) => match self.selections.iter().position(|s| *s == name) {
                Some(i) => Ok(Cond::Sel(i)),
                None => Err(format!(
                    "condition names `{name}`, which is not a selection of this rule"
                )),
            },
            Token::Of(all) => {
                let target = self.tokens.get(self.pos).cloned();
                self.pos += 1;
                let chosen: Vec<usize> = match target {
                    Some(Token::Them) => (0..self.selections.len())
                        .filter(|&i| !self.selections[i].starts_with('_'))
                        .collect(),
                    Some(Token::Ident(pattern)) => (0..self.selections.len())
                        .filter(|&i| {
                            !self.selections[i].starts_with('_')
                                && glob_name(&pattern, &self.selections[i])
                        })
                        .collect(),
                    _ => {
                        return Err(
                            "condition: `of` must be followed by a name pattern or `them`".into(),
                        );
                    }
                };
                if chosen.is_empty() {
                    return Err("condition: `of` pattern matches no selection".into());
                }
                let items = chosen.into_iter().map(Cond::Sel).collect();
                Ok(if all {
                    Cond::And(items)
                } else {
                    Cond::Or(items)
                })
            }
            other => Err(format!(
                "condition: unexpected {} where a selection was expected",
                describe(&other)
            )),
        }
    }
}

/// Selection-name patterns: `*` matches any run of characters (case-sensitive, as names are).
fn glob_name(pattern: &str, name: &str) -> bool {
    let parts: Vec<&str> = pattern.split('*').collect();
    if parts.len() == 1 {
        return pattern == name;
    }
    let (first, last) = (parts[0], parts[parts.len() - 1]);
    if !name.starts_with(first) || name.len() < first.len() + last.len() || !name.ends_with(last) {
        return false;
    }
    let mut rest = &name[first.len()..name.len() - last.len()];
    for middle in &parts[1..parts.len() - 1] {
        match rest.find(middle) {
            Some(at) => rest = &rest[at + middle.len()..],
            None => return false,
        }
    }
    true
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sels(names: &[&str]) -> Vec<String> {
        names.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn table() {
        let names = sels(&["a", "b", "sel_x", "sel_y", "_hidden"]);
        let cases: &[(&str, Result<Cond, &str>)] = &[
            ("a", Ok(Cond::Sel(0))),
            ("a and b", Ok(Cond::And(vec![Cond::Sel(0), Cond::Sel(1)]))),
            (
                "a or b and not a",
                Ok(Cond::Or(vec![
                    Cond::Sel(0),
                    Cond::And(vec![Cond::Sel(1), Cond::Not(Box::new(Cond::Sel(0)))]),
                ])),
            ),
            ("1 of sel_*", Ok(Cond::Or(vec![Cond::Sel(2), Cond::Sel(3)]))),
            (
                "all of them",
                Ok(Cond::And(vec![
                    Cond::Sel(0),
                    Cond::Sel(1),
                    Cond::Sel(2),
                    Cond::Sel(3),
                ])),
            ),
            ("(a)", Ok(Cond::Sel(0))),
            ("a and", Err("ends")),
            ("(a", Err("`)`")),
            ("c", Err("not a selection")),
            ("1 of nothing*", Err("matches no selection")),
            ("a | count() > 5", Err("correlation")),
            ("", Err("empty")),
        ];
        for (text, want) in cases {
            let got = parse(text, &names);
            match (want, &got) {
                (Ok(w), Ok(g)) => assert_eq!(w, g, "{text}"),
                (Err(w), Err(g)) => assert!(g.contains(w), "{text}: {g}"),
                _ => panic!("{text}: got {got:?}"),
            }
        }
    }
}
