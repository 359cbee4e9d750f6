//! `/metrics` as Prometheus reads it: a parser of the text format, and the sums of series.

use reqwest::Method;

use crate::TestApp;

/// One sample line: `name{label="value",...} value`.
#[derive(Debug)]
pub struct Sample {
    pub name: String,
    pub labels: Vec<(String, String)>,
    pub value: f64,
}

/// Parses one line of the Prometheus text format (version 0.0.4): comments are skipped; a
/// label value is a quoted string with `\\`, `\"` and `\n` escapes, and may hold any
/// other character, braces included.
pub fn parse_line(line: &str) -> Option<Sample> {
    if line.starts_with('#') || line.trim().is_empty() {
        return None;
    }
    let name_end = line.find(['{', ' ']).expect("a metric name");
    let name = line[..name_end].to_owned();
    let mut labels = Vec::new();
    let mut rest = &line[name_end..];
    if let Some(mut inner) = rest.strip_prefix('{') {
        loop {
            if let Some(after) = inner.strip_prefix('}') {
                rest = after;
                break;
            }
            let (key, after_key) = inner.split_once("=\"").expect("label=\"value\"");
            let mut value = String::new();
            let mut characters = after_key.char_indices();
            let end = loop {
                match characters.next().expect("a closed label value") {
                    (_, '\\') => match characters.next().expect("an escape").1 {
                        'n' => value.push('\n'),
                        other => value.push(other),
                    },
                    (index, '"') => break index,
                    (_, other) => value.push(other),
                }
            };
            labels.push((key.trim_start_matches(',').to_owned(), value));
            inner = &after_key[end + 1..];
        }
    }
    let value = rest.split_whitespace().next().expect("a value");
    let value = match value {
        "+Inf" => f64::INFINITY,
        "-Inf" => f64::NEG_INFINITY,
        number => number.parse().expect("a number"),
    };
    Some(Sample {
        name,
        labels,
        value,
    })
}

/// The samples of one scrape.
#[derive(Debug)]
pub struct Scrape(pub Vec<Sample>);

impl Scrape {
    /// Scrapes the app's API listener (as a loopback peer).
    pub async fn of(app: &TestApp) -> Self {
        Self::from_url(app, &app.url("/metrics")).await
    }

    /// Scrapes `url`.
    pub async fn from_url(app: &TestApp, url: &str) -> Self {
        let response = app
            .client
            .request(Method::GET, url)
            .send()
            .await
            .expect("scrape /metrics");
        assert_eq!(response.status().as_u16(), 200, "GET {url}");
        let content_type = response.headers()["content-type"]
            .to_str()
            .unwrap()
            .to_owned();
        assert!(
            content_type.starts_with("text/plain; version=0.0.4"),
            "{content_type}"
        );
        let text = response.text().await.expect("the scraped text");
        Self(text.lines().filter_map(parse_line).collect())
    }

    /// The sum of the series `name` whose labels include `labels`; 0 when there is none.
    #[must_use]
    pub fn value(&self, name: &str, labels: &[(&str, &str)]) -> f64 {
        self.0
            .iter()
            .filter(|sample| sample.name == name)
            .filter(|sample| {
                labels
                    .iter()
                    .all(|(key, value)| sample.labels.iter().any(|(k, v)| k == key && v == value))
            })
            .map(|sample| sample.value)
            .sum()
    }

    /// [`Scrape::value`] of a series that counts something (a counter, or a gauge of things).
    #[must_use]
    #[expect(
        clippy::cast_possible_truncation,
        clippy::cast_sign_loss,
        reason = "counts"
    )]
    pub fn count(&self, name: &str, labels: &[(&str, &str)]) -> u64 {
        self.value(name, labels).round() as u64
    }

    #[must_use]
    pub fn has(&self, name: &str) -> bool {
        self.0.iter().any(|sample| sample.name == name)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_parser_reads_braces_and_escapes_inside_label_values() {
        let sample =
            parse_line(r#"x_bucket{route="/u/{id}",note="a \"q\" \\ b",le="+Inf"} 3"#).unwrap();
        assert_eq!(sample.name, "x_bucket");
        assert_eq!(sample.labels[0], ("route".to_owned(), "/u/{id}".to_owned()));
        assert_eq!(sample.labels[1].1, r#"a "q" \ b"#);
        assert_eq!(sample.labels[2].1, "+Inf");
        assert!((sample.value - 3.0).abs() < f64::EPSILON);
        assert!(parse_line("# TYPE x counter").is_none());
    }
}
