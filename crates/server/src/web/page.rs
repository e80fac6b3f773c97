//! The holder's pages as HTML text. Everything interpolated goes through [`escape`]; the pages
//! carry no inline script or style, so the Content-Security-Policy can forbid both.

use std::fmt::Write;

use super::html::escape;
use crate::model::{Reason, State};

/// What the holder is told about a state: a short title and a sentence.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StateText {
    pub title: &'static str,
    pub message: &'static str,
}

/// Whether the holder's part is over: the page stops following the session and sends the
/// browser on. COMPLETED is not: the chip was read and its verification is still being decided.
pub fn ends_flow(state: State) -> bool {
    matches!(
        state,
        State::Approved | State::Rejected | State::Failed | State::Aborted
    )
}

pub fn describe(state: State, reason: Option<Reason>) -> StateText {
    let (title, message) = match state {
        State::Created => (
            "Waiting for you to start",
            "Nothing has been read yet. Use one of the two ways below to read your passport.",
        ),
        State::Initiated => (
            "Reading your passport",
            "A reader has started. Keep the document still on the reader until it says it is done.",
        ),
        State::Completed => (
            "Checking your passport",
            "The chip has been read and is being verified. This takes a moment.",
        ),
        State::Approved => (
            "Done: your passport is verified",
            "Thank you. Your identity has been confirmed.",
        ),
        State::Rejected => (
            "Your passport could not be verified",
            "The chip was read, but the check did not succeed. The service that sent you here \
             has been told; contact it if you need help.",
        ),
        State::Failed => (
            "A technical problem stopped the check",
            "The passport could not be read or checked. The service that sent you here has been \
             told and can send you a new link.",
        ),
        State::Aborted if reason == Some(Reason::Expired) => (
            "This link has expired",
            "The time for this check ran out before it was finished. Ask the service that sent \
             you here for a new link.",
        ),
        State::Aborted => (
            "This check was cancelled",
            "The check was stopped before it was finished. Ask the service that sent you here \
             for a new link if you still need one.",
        ),
    };
    StateText { title, message }
}

/// The `redirect_url` given with the link, checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Redirect {
    Absent,
    /// An absolute http(s) URL without credentials, as the `url` crate serializes it.
    Valid(url::Url),
    /// Given but not acceptable; it is neither followed nor shown.
    Ignored,
}

/// Longest `redirect_url` accepted, in bytes; browsers and proxies cut longer URLs anyway.
const MAX_REDIRECT_LEN: usize = 2048;

impl Redirect {
    pub fn parse(raw: Option<&str>) -> Redirect {
        let Some(raw) = raw.filter(|r| !r.is_empty()) else {
            return Redirect::Absent;
        };
        match url::Url::parse(raw) {
            Ok(u)
                if raw.len() <= MAX_REDIRECT_LEN
                    && matches!(u.scheme(), "http" | "https")
                    && u.host_str().is_some_and(|h| !h.is_empty())
                    && u.username().is_empty()
                    && u.password().is_none() =>
            {
                Redirect::Valid(u)
            }
            _ => Redirect::Ignored,
        }
    }

    pub fn url(&self) -> Option<&url::Url> {
        match self {
            Redirect::Valid(u) => Some(u),
            _ => None,
        }
    }
}

/// What the live page shows for one session.
pub struct HolderPage<'a> {
    pub state: State,
    pub text: StateText,
    pub face_verification: bool,
    pub passport_only: bool,
    pub token: &'a str,
    /// The server's public base URL, without a trailing slash.
    pub base_url: &'a str,
    pub redirect: &'a Redirect,
}

/// The link that opens this page, as the QR code carries it.
pub fn open_link(base_url: &str, token: &str, redirect: &Redirect) -> String {
    let mut query = url::form_urlencoded::Serializer::new(String::new());
    query.append_pair("token", token);
    if let Some(u) = redirect.url() {
        query.append_pair("redirect_url", u.as_str());
    }
    format!("{base_url}/open?{}", query.finish())
}

fn state_url(token: &str) -> String {
    let mut query = url::form_urlencoded::Serializer::new(String::new());
    query.append_pair("token", token);
    format!("/open/state?{}", query.finish())
}

pub fn holder_page(p: &HolderPage<'_>) -> String {
    let mut body = String::new();
    body.push_str(
        "<h1>Confirm your identity with your passport</h1>\n\
         <p class=\"lead\">A service has asked you to prove who you are by reading the chip in your \
         passport. Only what is stored on the chip is read; the chip proves that it is genuine.</p>\n",
    );
    asked_section(&mut body, p);
    status_section(&mut body, p);
    how_section(&mut body, p);
    layout("Confirm your identity – passport-reader", &body, true)
}

/// What the session asks for: the document, a selfie.
fn asked_section(body: &mut String, p: &HolderPage<'_>) {
    body.push_str("<section aria-labelledby=\"asked-heading\">\n<h2 id=\"asked-heading\">What is asked of you</h2>\n<ul>\n");
    body.push_str(
        "<li>Read the chip of your identity document with an NFC reader or a phone.</li>\n",
    );
    if p.passport_only {
        body.push_str(
            "<li><strong>Only a passport is accepted</strong>, not an identity card or a \
             residence permit.</li>\n",
        );
    } else {
        body.push_str(
            "<li>A passport, or an identity card with a chip (look for the chip symbol on \
             it).</li>\n",
        );
    }
    if p.face_verification {
        body.push_str(
            "<li><strong>Also a selfie</strong>: a photo of your face, taken now and compared \
             with the photo on the chip.</li>\n",
        );
    }
    body.push_str(
        "<li>Keep the document at hand: the document number, date of birth and date of expiry \
         printed on it (or its card access number) unlock the chip.</li>\n</ul>\n</section>\n",
    );
}

/// The session's state, followed live by app.js, and where the page goes afterwards.
fn status_section(body: &mut String, p: &HolderPage<'_>) {
    let redirect_attr = match p.redirect.url() {
        Some(u) => format!(" data-redirect-url=\"{}\"", escape(u.as_str())),
        None => String::new(),
    };
    let _ = write!(
        body,
        "<section aria-labelledby=\"status-heading\">\n<h2 id=\"status-heading\">Status</h2>\n\
         <div id=\"status\" class=\"status\" role=\"status\" aria-live=\"polite\" \
         data-state=\"{state}\" data-state-url=\"{state_url}\"{redirect_attr}>\n\
         <p class=\"state-title\">{title}</p>\n<p class=\"state-message\">{message}</p>\n\
         <p class=\"state-progress\" hidden></p>\n</div>\n\
         <p id=\"redirect-notice\" class=\"note\" hidden></p>\n\
         <noscript><p class=\"note\">This page follows the check by itself when JavaScript is on. \
         Without it, reload the page to see the current status.</p></noscript>\n",
        state = p.state.as_str(),
        state_url = escape(&state_url(p.token)),
        title = escape(p.text.title),
        message = escape(p.text.message),
    );
    match p.redirect {
        Redirect::Valid(u) => {
            let _ = writeln!(
                body,
                "<p>When the check is over, this page takes you back to <strong>{}</strong>.</p>",
                escape(u.host_str().unwrap_or_default())
            );
        }
        Redirect::Ignored => body.push_str(
            "<p class=\"note warning\">The return address given with this link is not an \
             absolute <code>http://</code> or <code>https://</code> address, so it is ignored: \
             this page will not send you anywhere when the check is over.</p>\n",
        ),
        Redirect::Absent => {}
    }
    body.push_str("</section>\n");
}

/// The ways to read: a phone app through the QR code, or the CLI with a USB reader.
fn how_section(body: &mut String, p: &HolderPage<'_>) {
    let link = open_link(p.base_url, p.token, p.redirect);
    body.push_str(
        "<section aria-labelledby=\"how-heading\">\n<h2 id=\"how-heading\">How to do it</h2>\n\
         <p>Choose one of these ways.</p>\n",
    );
    let _ = write!(
        body,
        "<h3>On your phone, with a reading app</h3>\n<p>Only if the service that sent you here \
         gave you a reading app for this (an app that reads passports for passport-reader): \
         open the app and scan this code with it, then hold your document against the back of \
         the phone when the app asks. The phone needs NFC. A phone's web browser cannot read the \
         chip by itself.</p>\n<figure>\n{qr}\n<figcaption>The link in the code: \
         <a href=\"{href}\" class=\"link\">{text}</a></figcaption>\n</figure>\n",
        qr = super::qr::svg(&link, "QR code of the link to this page").unwrap_or_default(),
        href = escape(&link),
        text = escape(&link),
    );
    let _ = write!(
        body,
        "<h3>On this computer, with a USB NFC reader</h3>\n<ol>\n\
         <li>Connect the NFC reader and lay your document on it (a passport opened at the photo \
         page, or closed with the cover that holds the chip on the reader).</li>\n\
         <li>In a terminal, run the <code>passport-reader</code> program:\n\
         <pre><code>passport-reader read --server {server} --token {token}</code></pre></li>\n\
         <li>Answer its questions and keep the document still until it says it is done. This \
         page shows the result.</li>\n</ol>\n</section>\n",
        server = escape(p.base_url),
        token = escape(p.token),
    );
}

/// The page for a token whose session is over (HTTP 410).
pub fn ended_page(text: StateText, state: State, redirect: &Redirect) -> String {
    let mut body = format!(
        "<h1>This check is over</h1>\n<div class=\"status\" data-state=\"{}\">\n\
         <p class=\"state-title\">{}</p>\n<p class=\"state-message\">{}</p>\n</div>\n\
         <p>This link can no longer be used.</p>\n",
        state.as_str(),
        escape(text.title),
        escape(text.message)
    );
    if let Some(u) = redirect.url() {
        let _ = writeln!(
            body,
            "<p><a class=\"button\" href=\"{}\">Continue to {}</a></p>",
            escape(u.as_str()),
            escape(u.host_str().unwrap_or_default())
        );
    }
    layout("Check over – passport-reader", &body, false)
}

/// The page for a missing or unknown token (HTTP 404).
pub fn not_found_page() -> String {
    layout(
        "Link not valid – passport-reader",
        "<h1>This link is not valid</h1>\n<p>No identity check belongs to this link. It may have \
         been copied incompletely, or the check may have been deleted.</p>\n<p>Ask the service \
         that sent you here for a new link.</p>\n",
        false,
    )
}

/// The page for a failure on the server's side (HTTP 500); details are only logged.
pub fn error_page() -> String {
    layout(
        "Something went wrong – passport-reader",
        "<h1>Something went wrong on our side</h1>\n<p>The page could not be shown just now. \
         Please try again in a minute.</p>\n",
        false,
    )
}

fn layout(title: &str, body: &str, with_script: bool) -> String {
    let script = if with_script {
        "<script src=\"/open/app.js\" defer></script>\n"
    } else {
        ""
    };
    format!(
        "<!doctype html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
         <meta name=\"referrer\" content=\"no-referrer\">\n<title>{title}</title>\n\
         <link rel=\"stylesheet\" href=\"/open/app.css\">\n{script}</head>\n<body>\n\
         <main>\n{body}</main>\n</body>\n</html>\n",
        title = escape(title),
    )
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]
mod tests {
    use super::*;

    #[test]
    fn escapes_the_five_characters() {
        assert_eq!(
            escape(r#"<a href="x" title='y'>&</a>"#),
            "&lt;a href=&quot;x&quot; title=&#39;y&#39;&gt;&amp;&lt;/a&gt;"
        );
    }

    #[test]
    fn only_absolute_http_redirects_without_credentials() {
        for ok in ["https://shop.example/done?x=1", "http://127.0.0.1:8080/"] {
            assert!(
                matches!(Redirect::parse(Some(ok)), Redirect::Valid(_)),
                "{ok}"
            );
        }
        for bad in [
            "javascript:alert(1)",
            "/relative",
            "//evil.example/",
            "data:text/html,hi",
            "ftp://files.example/",
            "https://user:pw@shop.example/",
            "mailto:a@b.example",
        ] {
            assert_eq!(Redirect::parse(Some(bad)), Redirect::Ignored, "{bad}");
        }
        let long = format!("https://shop.example/{}", "a".repeat(MAX_REDIRECT_LEN));
        assert_eq!(Redirect::parse(Some(&long)), Redirect::Ignored);
        assert_eq!(Redirect::parse(None), Redirect::Absent);
        assert_eq!(Redirect::parse(Some("")), Redirect::Absent);
    }

    #[test]
    fn every_state_has_a_text_and_only_final_states_end_the_flow() {
        for s in State::ALL {
            assert!(!describe(*s, None).title.is_empty());
        }
        let ending: Vec<State> = State::ALL
            .iter()
            .copied()
            .filter(|s| ends_flow(*s))
            .collect();
        assert_eq!(
            ending,
            [
                State::Approved,
                State::Rejected,
                State::Failed,
                State::Aborted
            ]
        );
        assert_ne!(
            describe(State::Aborted, Some(Reason::Expired)),
            describe(State::Aborted, Some(Reason::AbortedByIntegrator))
        );
    }

    #[test]
    fn open_link_encodes_its_parts() {
        let r = Redirect::parse(Some("https://shop.example/a?b=c&d=e"));
        assert_eq!(
            open_link("https://id.example", "t-_0", &r),
            "https://id.example/open?token=t-_0&redirect_url=https%3A%2F%2Fshop.example%2Fa%3Fb%3Dc%26d%3De"
        );
        assert_eq!(
            open_link("https://id.example", "t", &Redirect::Ignored),
            "https://id.example/open?token=t"
        );
    }
}
