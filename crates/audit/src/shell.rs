//! Just enough of POSIX shell to audit a `RUN` line: the script split into
//! simple commands (words with quotes removed) and whether each is fed by
//! a pipe. Not an interpreter: no expansion, no functions.

/// One simple command of a script.
#[derive(Debug, Clone, PartialEq)]
pub struct Command {
    pub words: Vec<String>,
    /// Its stdin is the previous command's stdout (`a | b`: true for b).
    pub piped: bool,
}

impl Command {
    /// The program run, as a base name (`/bin/sh` -> `sh`), past variable
    /// assignments and wrappers (`sudo`, `env`, `exec`, ...).
    pub fn program(&self) -> Option<&str> {
        self.args_from_program().first().map(|w| basename(w))
    }

    /// The words from the program on.
    pub fn args_from_program(&self) -> &[String] {
        let mut i = 0;
        while i < self.words.len() {
            let w = &self.words[i];
            let is_assign = w.split_once('=').is_some_and(|(k, _)| {
                !k.is_empty() && k.chars().all(|c| c.is_alphanumeric() || c == '_')
            });
            let b = basename(w);
            if is_assign || matches!(b, "env" | "exec" | "command" | "nohup" | "time" | "nice") {
                i += 1;
            } else if b == "sudo" {
                i += 1;
                // sudo's own options (-u user takes a value).
                while let Some(o) = self.words.get(i).filter(|o| o.starts_with('-')) {
                    i += if matches!(o.as_str(), "-u" | "-g" | "-C" | "-D") {
                        2
                    } else {
                        1
                    };
                }
            } else {
                break;
            }
        }
        self.words.get(i..).unwrap_or(&[])
    }

    pub fn has_word(&self, w: &str) -> bool {
        self.words.iter().any(|x| x == w)
    }
}

fn basename(w: &str) -> &str {
    w.rsplit('/').next().unwrap_or(w)
}

/// The script's simple commands in order.
pub fn commands(script: &str) -> Vec<Command> {
    let mut out = Vec::new();
    let mut words: Vec<String> = Vec::new();
    let mut word = String::new();
    let mut in_word = false;
    let mut piped = false;
    let mut chars = script.chars().peekable();
    let mut end = |words: &mut Vec<String>, next_piped: bool, piped: &mut bool| {
        if !words.is_empty() {
            out.push(Command {
                words: std::mem::take(words),
                piped: *piped,
            });
        }
        *piped = next_piped;
    };
    while let Some(c) = chars.next() {
        match c {
            '\'' => {
                in_word = true;
                for q in chars.by_ref() {
                    if q == '\'' {
                        break;
                    }
                    word.push(q);
                }
            }
            '"' => {
                in_word = true;
                while let Some(q) = chars.next() {
                    match q {
                        '"' => break,
                        '\\' => {
                            if let Some(n) = chars.next() {
                                word.push(n);
                            }
                        }
                        q => word.push(q),
                    }
                }
            }
            '\\' => {
                // A backslash-newline joins lines; otherwise it quotes.
                match chars.next() {
                    Some('\n') | None => {}
                    Some(n) => {
                        in_word = true;
                        word.push(n);
                    }
                }
            }
            '#' if !in_word => {
                for q in chars.by_ref() {
                    if q == '\n' {
                        break;
                    }
                }
                flush(&mut word, &mut in_word, &mut words);
                end(&mut words, false, &mut piped);
            }
            ' ' | '\t' => flush(&mut word, &mut in_word, &mut words),
            '\n' | ';' | '&' | '|' | '(' | ')' => {
                flush(&mut word, &mut in_word, &mut words);
                let mut next_piped = false;
                if c == '|' {
                    if chars.peek() == Some(&'|') {
                        chars.next();
                    } else {
                        next_piped = true;
                    }
                } else if c == '&' && chars.peek() == Some(&'&') {
                    chars.next();
                }
                end(&mut words, next_piped, &mut piped);
            }
            c => {
                in_word = true;
                word.push(c);
            }
        }
    }
    flush(&mut word, &mut in_word, &mut words);
    end(&mut words, false, &mut piped);
    out
}

fn flush(word: &mut String, in_word: &mut bool, words: &mut Vec<String>) {
    if *in_word {
        words.push(std::mem::take(word));
        *in_word = false;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_pipes_lists_and_quotes() {
        let c = commands(
            "apt-get update && curl -fsSL 'https://x/y z' | sudo -u root bash -s; echo \"a|b\"",
        );
        assert_eq!(c.len(), 4);
        assert_eq!(c[0].words, ["apt-get", "update"]);
        assert_eq!(c[1].words[2], "https://x/y z");
        assert!(!c[1].piped);
        assert!(c[2].piped);
        assert_eq!(c[2].program(), Some("bash"));
        assert_eq!(c[3].words, ["echo", "a|b"]);
        let c = commands("A=1 /usr/bin/env B=2 /bin/sh -c x || true # comment | sh\nnext");
        assert_eq!(c[0].program(), Some("sh"));
        assert_eq!(c[1].program(), Some("true"));
        assert_eq!(c[2].words, ["next"]);
    }
}
