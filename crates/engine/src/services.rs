//! AWS services' front doors: the small HTTP/1.1 dialect vpcsim's services
//! speak, and how a service answers a request.
//!
//! A request is a header block; three headers carry what IAM looks at:
//!
//! ```text
//! POST / HTTP/1.1
//! Host: s3.us-east-1.amazonaws.com
//! x-vpcsim-principal: arn:aws:iam::111111111111:root
//! x-vpcsim-action: s3:GetObject
//! x-vpcsim-resource: arn:aws:s3:::reports/q1.csv
//! ```
//!
//! The service answers `200 OK`, or `403 Forbidden` when the endpoint policy
//! of the gateway endpoint the connection came through denies the request
//! (the decision is the fabric's: `Fabric::authorize`), or `400 Bad Request`.
//! Answers carry `x-vpcsim-service` and, through an endpoint, `x-vpcsim-via`.

use vpcsim_model::Request;

/// The request bytes a client sends.
pub(crate) fn request_bytes(host: &str, principal: &str, r: &Request) -> Vec<u8> {
    format!(
        "POST / HTTP/1.1\r\nHost: {host}\r\nx-vpcsim-principal: {principal}\r\nx-vpcsim-action: {}\r\nx-vpcsim-resource: {}\r\nContent-Length: 0\r\n\r\n",
        r.action, r.resource
    )
    .into_bytes()
}

/// What a request asks, read from its headers.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct ServiceRequest {
    pub principal: String,
    pub action: String,
    pub resource: String,
}

/// Reads a request's header block; `None` when it lacks one of the three headers.
pub(crate) fn parse_request(bytes: &[u8]) -> Option<ServiceRequest> {
    let text = std::str::from_utf8(bytes).ok()?;
    let mut lines = text.split("\r\n");
    let request_line = lines.next()?;
    if !request_line.ends_with(" HTTP/1.1") {
        return None;
    }
    let (mut principal, mut action, mut resource) = (None, None, None);
    for line in lines {
        let Some((k, v)) = line.split_once(':') else { continue };
        let v = v.trim().to_string();
        match k.trim().to_ascii_lowercase().as_str() {
            "x-vpcsim-principal" => principal = Some(v),
            "x-vpcsim-action" => action = Some(v),
            "x-vpcsim-resource" => resource = Some(v),
            _ => {}
        }
    }
    Some(ServiceRequest { principal: principal?, action: action?, resource: resource? })
}

/// An answer: status line and headers, no body.
pub(crate) fn response(status: u16, service: &str, via: Option<&str>, reason: Option<&str>) -> Vec<u8> {
    let text = match status {
        200 => "OK",
        400 => "Bad Request",
        403 => "Forbidden",
        _ => "Error",
    };
    let mut s = format!("HTTP/1.1 {status} {text}\r\nx-vpcsim-service: {service}\r\n");
    if let Some(v) = via {
        s.push_str(&format!("x-vpcsim-via: {v}\r\n"));
    }
    if let Some(r) = reason {
        s.push_str(&format!("x-vpcsim-reason: {r}\r\n"));
    }
    s.push_str("Content-Length: 0\r\nConnection: close\r\n\r\n");
    s.into_bytes()
}

/// The status code of a complete answer's status line, once it has arrived.
pub(crate) fn status_code(bytes: &[u8]) -> Option<u16> {
    let end = bytes.windows(4).position(|w| w == b"\r\n\r\n")?;
    let head = std::str::from_utf8(&bytes[..end]).ok()?;
    head.strip_prefix("HTTP/1.1 ")?.get(..3)?.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_request_reads_back_and_an_answer_has_its_status() {
        let r =
            Request { action: "s3:GetObject".into(), resource: "arn:aws:s3:::reports/q1.csv".into(), principal: None };
        let bytes = request_bytes("s3.us-east-1.amazonaws.com", "arn:aws:iam::111111111111:root", &r);
        let parsed = parse_request(&bytes).unwrap();
        assert_eq!(parsed.action, "s3:GetObject");
        assert_eq!(parsed.resource, "arn:aws:s3:::reports/q1.csv");
        assert_eq!(parsed.principal, "arn:aws:iam::111111111111:root");
        assert_eq!(parse_request(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n"), None);
        assert_eq!(status_code(&response(403, "s3.us-east-1", Some("vpce-s3"), None)), Some(403));
        assert_eq!(status_code(b"HTTP/1.1 200 OK\r\n"), None, "incomplete");
    }
}
