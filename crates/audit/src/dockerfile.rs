//! A Dockerfile parser for auditing: parser directives (`# escape=`),
//! comments, line continuations (with the escape character), exec (JSON)
//! and shell forms, leading `--flags`, and heredocs (`RUN <<EOF ... EOF`),
//! whose bodies are kept with their instruction. Lines are 1-based and
//! name where an instruction starts.

/// The arguments of an instruction.
#[derive(Debug, Clone, PartialEq)]
pub enum Args {
    /// `["a", "b"]`: exec form, no shell.
    Exec(Vec<String>),
    /// Anything else: the text after the keyword and flags.
    Shell(String),
}

/// A heredoc attached to an instruction.
#[derive(Debug, Clone, PartialEq)]
pub struct Heredoc {
    pub name: String,
    pub body: String,
    /// The line of the body's first line.
    pub line: u32,
}

/// One instruction.
#[derive(Debug, Clone, PartialEq)]
pub struct Instruction {
    /// The line its keyword is on.
    pub line: u32,
    /// Upper case: `RUN`, `FROM`, ...
    pub keyword: String,
    /// Leading `--name=value` flags (`--link`: value "").
    pub flags: Vec<(String, String)>,
    pub args: Args,
    pub heredocs: Vec<Heredoc>,
    /// The instruction as written (continuations joined), for evidence.
    pub text: String,
}

impl Instruction {
    pub fn flag(&self, name: &str) -> Option<&str> {
        self.flags
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// The arguments as words: exec form as is; shell form split like a
    /// shell (quotes removed).
    pub fn words(&self) -> Vec<String> {
        match &self.args {
            Args::Exec(v) => v.clone(),
            Args::Shell(s) => crate::shell::commands(s)
                .into_iter()
                .flat_map(|c| c.words)
                .collect(),
        }
    }
}

/// A parsed Dockerfile.
#[derive(Debug, Clone, PartialEq)]
pub struct Dockerfile {
    pub escape: char,
    pub instructions: Vec<Instruction>,
}

/// Parses `text`. Never fails: a line it cannot make sense of becomes an
/// instruction with whatever keyword it starts with.
pub fn parse(text: &str) -> Dockerfile {
    let lines: Vec<&str> = text.lines().collect();
    let mut escape = '\\';
    let mut i = 0;
    // Parser directives: only at the very top, each `# key=value`.
    while let Some(l) = lines.get(i) {
        let Some((k, v)) = directive(l) else { break };
        if k.eq_ignore_ascii_case("escape") && (v == "`" || v == "\\") {
            escape = v.chars().next().unwrap_or('\\');
        }
        i += 1;
    }
    let mut instructions = Vec::new();
    while i < lines.len() {
        let first = lines[i].trim_start();
        if first.is_empty() || first.starts_with('#') {
            i += 1;
            continue;
        }
        let line = (i + 1) as u32;
        let mut joined = String::new();
        let mut cur = lines[i];
        i += 1;
        loop {
            let t = cur.trim_end();
            match t.strip_suffix(escape) {
                Some(head) => {
                    joined.push_str(head);
                    // Comment and empty lines inside a continuation are dropped.
                    while i < lines.len() {
                        let n = lines[i].trim_start();
                        if n.is_empty() || n.starts_with('#') {
                            i += 1;
                        } else {
                            break;
                        }
                    }
                    match lines.get(i) {
                        Some(n) => {
                            cur = n;
                            i += 1;
                        }
                        None => break,
                    }
                }
                None => {
                    joined.push_str(t);
                    break;
                }
            }
        }
        let ins = instruction(line, joined.trim(), &lines, &mut i);
        instructions.push(ins);
    }
    Dockerfile {
        escape,
        instructions,
    }
}

fn directive(l: &str) -> Option<(&str, &str)> {
    let rest = l.trim().strip_prefix('#')?;
    let (k, v) = rest.split_once('=')?;
    let k = k.trim();
    (!k.is_empty() && k.chars().all(|c| c.is_ascii_alphanumeric() || c == '_'))
        .then_some((k, v.trim()))
}

fn instruction(line: u32, text: &str, lines: &[&str], i: &mut usize) -> Instruction {
    let (kw, rest) = text.split_once(char::is_whitespace).unwrap_or((text, ""));
    let keyword = kw.to_ascii_uppercase();
    let mut rest = rest.trim_start();
    let mut flags = Vec::new();
    while let Some(f) = rest.strip_prefix("--") {
        let end = f.find(char::is_whitespace).unwrap_or(f.len());
        let (name, value) = f[..end].split_once('=').unwrap_or((&f[..end], ""));
        flags.push((name.to_string(), value.to_string()));
        rest = f[end..].trim_start();
    }
    let mut heredocs = Vec::new();
    if matches!(keyword.as_str(), "RUN" | "COPY" | "ADD") {
        for (name, strip_tabs) in heredoc_markers(rest) {
            let start = (*i + 1) as u32;
            let mut body = String::new();
            while let Some(l) = lines.get(*i) {
                *i += 1;
                let cmp = if strip_tabs {
                    l.trim_start_matches('\t')
                } else {
                    l
                };
                if cmp == name {
                    break;
                }
                body.push_str(cmp);
                body.push('\n');
            }
            heredocs.push(Heredoc {
                name,
                body,
                line: start,
            });
        }
    }
    let args = match rest.starts_with('[') {
        true => match serde_json::from_str::<Vec<String>>(rest) {
            Ok(v) => Args::Exec(v),
            Err(_) => Args::Shell(rest.to_string()),
        },
        false => Args::Shell(rest.to_string()),
    };
    Instruction {
        line,
        keyword,
        flags,
        args,
        heredocs,
        text: text.to_string(),
    }
}

/// The heredoc names (`<<EOF`, `<<-EOF`, `<<"EOF"`) in order, and whether
/// each strips leading tabs; `<<<` (a here-string) is not one.
fn heredoc_markers(s: &str) -> Vec<(String, bool)> {
    let mut out = Vec::new();
    let b = s.as_bytes();
    let mut k = 0;
    while let Some(p) = s[k..].find("<<") {
        let mut j = k + p + 2;
        if b.get(j) == Some(&b'<') {
            k = j + 1;
            continue;
        }
        let strip = b.get(j) == Some(&b'-');
        if strip {
            j += 1;
        }
        let quote = b.get(j).copied().filter(|c| *c == b'"' || *c == b'\'');
        if quote.is_some() {
            j += 1;
        }
        let name: String = s[j..]
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
            .collect();
        k = j + name.len();
        if !name.is_empty() {
            out.push((name, strip));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn continuations_comments_heredocs_and_forms() {
        let d = parse(
            "# syntax=docker/dockerfile:1\n# escape=\\\nFROM debian:12 AS build\n# a comment\nRUN apt-get update \\\n  # inside\n\n  && apt-get install -y curl\nRUN <<EOF\nset -e\nEOF\nCMD [\"sh\", \"-c\", \"x\"]\nCOPY --from=build --chmod=755 /a /b\n",
        );
        let k: Vec<(&str, u32)> = d
            .instructions
            .iter()
            .map(|i| (i.keyword.as_str(), i.line))
            .collect();
        assert_eq!(
            k,
            [
                ("FROM", 3),
                ("RUN", 5),
                ("RUN", 9),
                ("CMD", 12),
                ("COPY", 13)
            ]
        );
        assert_eq!(
            d.instructions[1].args,
            Args::Shell("apt-get update   && apt-get install -y curl".into())
        );
        assert_eq!(d.instructions[2].heredocs[0].body, "set -e\n");
        assert_eq!(d.instructions[2].heredocs[0].line, 10);
        assert_eq!(
            d.instructions[3].args,
            Args::Exec(vec!["sh".into(), "-c".into(), "x".into()])
        );
        assert_eq!(d.instructions[4].flag("from"), Some("build"));
        assert_eq!(d.instructions[4].flag("chmod"), Some("755"));
    }

    #[test]
    fn backtick_escape() {
        let d = parse("# escape=`\nFROM x:1\nRUN dir c:\\ `\n  && echo\n");
        assert_eq!(d.escape, '`');
        assert_eq!(d.instructions.len(), 2);
        assert_eq!(
            d.instructions[1].args,
            Args::Shell("dir c:\\   && echo".into())
        );
    }
}
