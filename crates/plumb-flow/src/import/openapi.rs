//! `plumb import openapi FILE`: one step per operation of an OpenAPI 3 document (JSON or YAML:
//! by the file's extension, else by its first character), with its
//! example values: path and required query parameters filled from `example`, the schema's
//! `example` or `default`, or a placeholder of the schema's type; a JSON request body from its
//! example; the first documented 2xx status checked. Paths in the file's order (sorted), methods
//! in GET, POST, PUT, PATCH, DELETE order.

use super::{ImportError, Imported, ImportedStep};
use serde_json::Value;
use std::path::Path;

/// The most operations imported.
const MAX_OPERATIONS: usize = 1_000;
const METHODS: [&str; 5] = ["get", "post", "put", "patch", "delete"];

/// How an OpenAPI document is written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DocFormat {
    /// JSON.
    Json,
    /// YAML (1.2; JSON is a part of it, but JSON's own reader gives better errors).
    Yaml,
}

impl DocFormat {
    /// `.yaml`/`.yml` is YAML and `.json` JSON; otherwise a document whose first character is `{`
    /// is JSON, and any other YAML.
    pub fn detect(path: &Path, text: &str) -> DocFormat {
        let extension = path
            .extension()
            .and_then(|e| e.to_str())
            .map(str::to_ascii_lowercase);
        match extension.as_deref() {
            Some("yaml" | "yml") => DocFormat::Yaml,
            Some("json") => DocFormat::Json,
            _ if text.trim_start().starts_with('{') => DocFormat::Json,
            _ => DocFormat::Yaml,
        }
    }
}

/// Import an OpenAPI 3 document written as `format`.
pub fn openapi(text: &str, format: DocFormat) -> Result<Imported, ImportError> {
    let doc = parse(text, format)?;
    let paths = doc.get("paths").and_then(Value::as_object).ok_or_else(|| {
        ImportError::new(
            "the document has no paths",
            "an OpenAPI document is {\"openapi\": \"3.0.0\", \"paths\": {...}}",
        )
    })?;
    let base_url = doc
        .pointer("/servers/0/url")
        .and_then(Value::as_str)
        .filter(|u| u.starts_with("http://") || u.starts_with("https://"))
        .unwrap_or("http://127.0.0.1:8080")
        .trim_end_matches('/')
        .to_string();
    let mut steps = Vec::new();
    for (path, item) in paths {
        for method in METHODS {
            let Some(operation) = item.get(method) else {
                continue;
            };
            if steps.len() == MAX_OPERATIONS {
                return Err(ImportError::new(
                    format!("the document has more than {MAX_OPERATIONS} operations"),
                    "import a smaller part of the API",
                ));
            }
            steps.push(step(path, method, item, operation));
        }
    }
    if steps.is_empty() {
        return Err(ImportError::new(
            "the document has no operations",
            "add paths with get, post, put, patch or delete",
        ));
    }
    Ok(Imported {
        base_url,
        flow: "api".into(),
        source: "an OpenAPI document".into(),
        steps,
        notes: vec!["One step per operation, filled with the document's example values: edit them, and add captures where one step's response feeds the next.".into()],
    })
}

/// The document as a JSON value, whichever way it is written.
fn parse(text: &str, format: DocFormat) -> Result<Value, ImportError> {
    match format {
        DocFormat::Json => serde_json::from_str(text).map_err(|e| {
            ImportError::new(
                format!("the document is not JSON: {e}"),
                "write it as JSON, or name it .yaml or .yml if it is YAML",
            )
        }),
        DocFormat::Yaml => serde_yaml_ng::from_str(text).map_err(|e| {
            ImportError::new(
                format!("the document is not YAML: {e}"),
                "write it as YAML (or JSON, named .json); one document, without custom tags",
            )
        }),
    }
}

fn step(path: &str, method: &str, item: &Value, operation: &Value) -> ImportedStep {
    let parameters: Vec<&Value> = [item, operation]
        .iter()
        .filter_map(|v| v.get("parameters").and_then(Value::as_array))
        .flatten()
        .collect();
    let mut url = path.to_string();
    let mut query = Vec::new();
    for p in &parameters {
        let (Some(name), Some(place)) = (
            p.get("name").and_then(Value::as_str),
            p.get("in").and_then(Value::as_str),
        ) else {
            continue;
        };
        let value = example_text(p);
        match place {
            "path" => url = url.replace(&format!("{{{name}}}"), &value),
            "query" if p.get("required").and_then(Value::as_bool) == Some(true) => {
                query.push(format!("{name}={value}"))
            }
            _ => {}
        }
    }
    if !query.is_empty() {
        url = format!("{url}?{}", query.join("&"));
    }
    let body = operation
        .pointer("/requestBody/content/application~1json")
        .map(|c| {
            example(c)
                .unwrap_or(Value::Object(Default::default()))
                .to_string()
        });
    let mut headers = Vec::new();
    if body.is_some() {
        headers.push(("Content-Type".to_string(), "application/json".to_string()));
    }
    let status = operation
        .get("responses")
        .and_then(Value::as_object)
        .and_then(|r| {
            r.keys()
                .filter_map(|k| k.parse::<u16>().ok())
                .find(|c| (200..300).contains(c))
        });
    let name = operation
        .get("operationId")
        .and_then(Value::as_str)
        .map_or_else(
            || format!("{} {path}", method.to_uppercase()),
            str::to_string,
        );
    ImportedStep {
        name,
        method: method.to_uppercase(),
        url,
        headers,
        body,
        captures: Vec::new(),
        status,
        think_ms: None,
    }
}

/// A parameter's or media type's example: `example`, the first of `examples`, the schema's
/// `example` or `default`.
fn example(v: &Value) -> Option<Value> {
    v.get("example")
        .or_else(|| {
            v.get("examples")
                .and_then(Value::as_object)
                .and_then(|m| m.values().next())
                .and_then(|e| e.get("value"))
        })
        .or_else(|| v.pointer("/schema/example"))
        .or_else(|| v.pointer("/schema/default"))
        .cloned()
}

/// A parameter's example as URL text, or a placeholder of its schema's type.
fn example_text(p: &Value) -> String {
    let raw = match example(p) {
        Some(Value::String(s)) => s,
        Some(other) => other.to_string(),
        None => match p.pointer("/schema/type").and_then(Value::as_str) {
            Some("integer" | "number") => "1".into(),
            Some("boolean") => "true".into(),
            _ => "example".into(),
        },
    };
    let mut out = Vec::new();
    crate::template::form_encode(raw.as_bytes(), &mut out);
    String::from_utf8(out).unwrap_or(raw)
}

#[cfg(test)]
mod tests {
    use super::super::write_toml;
    use super::*;

    #[test]
    fn operations_become_steps_with_example_values() {
        let doc = r#"{
          "openapi": "3.0.0",
          "servers": [{"url": "http://127.0.0.1:9000/v1/"}],
          "paths": {
            "/pets/{petId}": {
              "parameters": [{"name": "petId", "in": "path", "required": true, "schema": {"type": "integer"}}],
              "get": {"operationId": "showPet", "responses": {"200": {}, "404": {}}},
              "delete": {"responses": {"204": {}}}
            },
            "/pets": {
              "post": {
                "parameters": [{"name": "store", "in": "query", "required": true, "example": "main st"}],
                "requestBody": {"content": {"application/json": {"example": {"name": "Rex"}}}},
                "responses": {"201": {}}
              }
            }
          }
        }"#;
        let imported = openapi(doc, DocFormat::Json).unwrap();
        assert_eq!(imported.base_url, "http://127.0.0.1:9000/v1");
        let summary: Vec<(String, String, String, Option<u16>)> = imported
            .steps
            .iter()
            .map(|s| (s.name.clone(), s.method.clone(), s.url.clone(), s.status))
            .collect();
        assert_eq!(
            summary,
            vec![
                (
                    "POST /pets".into(),
                    "POST".into(),
                    "/pets?store=main+st".into(),
                    Some(201)
                ),
                ("showPet".into(), "GET".into(), "/pets/1".into(), Some(200)),
                (
                    "DELETE /pets/{petId}".into(),
                    "DELETE".into(),
                    "/pets/1".into(),
                    Some(204)
                ),
            ]
        );
        assert_eq!(imported.steps[0].body.as_deref(), Some(r#"{"name":"Rex"}"#));
        let toml = super::super::write_toml(&imported);
        let file = crate::parse_flow_file(&toml, std::path::Path::new("api.toml")).unwrap();
        assert_eq!(file.flows[0].steps.len(), 3);
        assert!(openapi("{}", DocFormat::Json).is_err());
    }

    #[test]
    fn the_format_follows_the_extension_then_the_first_character() {
        let detect = |path: &str, text: &str| DocFormat::detect(Path::new(path), text);
        assert_eq!(detect("api.yaml", "{}"), DocFormat::Yaml);
        assert_eq!(detect("api.YML", "{}"), DocFormat::Yaml);
        assert_eq!(detect("api.json", "openapi: 3.0.0"), DocFormat::Json);
        assert_eq!(detect("api", "  {\"openapi\": 1}"), DocFormat::Json);
        assert_eq!(detect("api.txt", "openapi: 3.0.0"), DocFormat::Yaml);
    }

    #[test]
    fn a_yaml_document_imports_as_its_json_twin() {
        let json = r#"{"openapi": "3.0.0", "servers": [{"url": "http://127.0.0.1:9000"}],
          "paths": {"/pets/{petId}": {"get": {"operationId": "showPet",
            "parameters": [{"name": "petId", "in": "path", "schema": {"type": "integer"}}],
            "responses": {"200": {}}}},
          "/pets": {"post": {"requestBody": {"content": {"application/json":
            {"example": {"name": "Rex", "age": 3}}}}, "responses": {"201": {}}}}}}"#;
        let yaml = "openapi: 3.0.0\nservers:\n  - url: http://127.0.0.1:9000\npaths:\n  \
            /pets/{petId}:\n    get:\n      operationId: showPet\n      parameters:\n        \
            - name: petId\n          in: path\n          schema: {type: integer}\n      \
            responses:\n        200: {}\n  /pets:\n    post:\n      requestBody:\n        \
            content:\n          application/json:\n            example:\n              \
            name: Rex\n              age: 3\n      responses:\n        '201': {}\n";
        let from_json = write_toml(&openapi(json, DocFormat::Json).unwrap());
        let from_yaml = write_toml(&openapi(yaml, DocFormat::Yaml).unwrap());
        assert_eq!(from_yaml, from_json);
        assert!(from_json.contains("url = \"/pets/1\""), "{from_json}");
        let e = openapi("paths: [unclosed", DocFormat::Yaml).unwrap_err();
        assert!(
            e.message.starts_with("the document is not YAML: "),
            "{}",
            e.message
        );
    }
}
