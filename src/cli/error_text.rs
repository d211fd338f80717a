//! How a failed command's error reads on stderr: the error and its causes,
//! one a line, in plain words.

/// An error and its causes, one a line. A cause whose words the line
/// before already holds is not repeated, and the operating system's
/// `(os error N)` suffix is left out.
pub(crate) fn error_text(error: &anyhow::Error) -> String {
    let mut text = String::new();
    let mut previous = String::new();
    for (depth, cause) in error.chain().enumerate() {
        let line = without_os_error(&cause.to_string());
        if depth > 0 && previous.contains(&line) {
            continue;
        }
        text.push_str(if depth == 0 {
            "error: "
        } else {
            "  caused by: "
        });
        text.push_str(&line);
        text.push('\n');
        previous = line;
    }
    text
}

fn without_os_error(text: &str) -> String {
    let mut rest = text;
    let mut plain = String::new();
    while let Some(at) = rest.find(" (os error ") {
        plain.push_str(rest.get(..at).unwrap_or_default());
        let after = rest.get(at + " (os error ".len()..).unwrap_or_default();
        let digits = after.chars().take_while(char::is_ascii_digit).count();
        match after.get(digits..) {
            Some(tail) if digits > 0 && tail.starts_with(')') => {
                rest = tail.get(1..).unwrap_or_default();
            }
            _ => {
                plain.push_str(" (os error ");
                rest = after;
            }
        }
    }
    plain.push_str(rest);
    plain
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_cause_already_in_the_message_is_not_repeated() {
        let io = std::io::Error::from_raw_os_error(17);
        let error = anyhow::Error::new(crate::output::OutputError::Io {
            action: "creating",
            path: "out".into(),
            error: io,
        })
        .context("writing `out`");
        let text = error_text(&error);
        assert_eq!(
            text,
            "error: writing `out`\n  caused by: creating `out`: it already exists\n"
        );
        let nested = anyhow::anyhow!("disk trouble (os error 5)")
            .context("reading `x`: disk trouble (os error 5)");
        assert_eq!(error_text(&nested), "error: reading `x`: disk trouble\n");
    }
}
