//! The policies the service decides by: those shipped in `schemas/policies/` (compiled in), and
//! any in the configured `policies_dir`. Each is checked against the policy format when the
//! service starts; a bad file stops the start with its name and the reason. Policies are keyed
//! by id and version: a decision names both, and a re-evaluation uses the same version.

use crate::error::{ApiError, ApiResult, Code};
use crate::state::AppState;
use actix_web::{HttpResponse, web};
use corroborate_verifier::json;
use corroborate_verifier::policy::Policy;
use std::collections::BTreeMap;
use std::path::Path;

const SHIPPED: &[(&str, &str)] = &[
    (
        "residence-municipality.json",
        include_str!("../../schemas/policies/residence-municipality.json"),
    ),
    (
        "birth-registration.json",
        include_str!("../../schemas/policies/birth-registration.json"),
    ),
    (
        "parentage.json",
        include_str!("../../schemas/policies/parentage.json"),
    ),
];

pub type Policies = BTreeMap<(String, String), Policy>;

/// The shipped policies plus those in `dir`.
pub fn load(dir: Option<&Path>) -> anyhow::Result<Policies> {
    let mut policies = Policies::new();
    let mut add = |name: &str, text: &str| -> anyhow::Result<()> {
        let value = json::parse_str(text, &json::Limits::default())
            .map_err(|e| anyhow::anyhow!("policy {name}: {e}"))?;
        let policy =
            Policy::from_json(&value).map_err(|e| anyhow::anyhow!("policy {name}: {e}"))?;
        let key = (policy.id.clone(), policy.version.clone());
        if policies.insert(key.clone(), policy).is_some() {
            anyhow::bail!(
                "policy {name}: {} version {} is defined twice",
                key.0,
                key.1
            );
        }
        Ok(())
    };
    for (name, text) in SHIPPED {
        add(name, text)?;
    }
    if let Some(dir) = dir {
        let mut files: Vec<_> = std::fs::read_dir(dir)
            .map_err(|e| anyhow::anyhow!("policies folder {}: {e}", dir.display()))?
            .filter_map(Result::ok)
            .map(|entry| entry.path())
            .filter(|path| path.extension().is_some_and(|ext| ext == "json"))
            .collect();
        files.sort();
        for path in files {
            let text = std::fs::read_to_string(&path)
                .map_err(|e| anyhow::anyhow!("policy {}: {e}", path.display()))?;
            add(&path.display().to_string(), &text)?;
        }
    }
    Ok(policies)
}

/// The policy `id` at `version`, or its highest version when `version` is `None`.
pub fn find<'a>(policies: &'a Policies, id: &str, version: Option<&str>) -> ApiResult<&'a Policy> {
    let found = match version {
        Some(version) => policies.get(&(id.to_owned(), version.to_owned())),
        None => policies
            .iter()
            .filter(|((pid, _), _)| pid == id)
            .max_by(|((_, a), _), ((_, b), _)| compare_versions(a, b))
            .map(|(_, policy)| policy),
    };
    found.ok_or_else(|| {
        ApiError::new(
            Code::UnknownPolicy,
            match version {
                Some(v) => format!("no policy {id:?} at version {v:?}"),
                None => format!("no policy {id:?}"),
            },
        )
    })
}

/// Versions compare numerically per dot-separated part ("1.10.0" > "1.9.2"), text otherwise.
fn compare_versions(a: &str, b: &str) -> std::cmp::Ordering {
    let parts = |v: &str| -> Vec<(u64, String)> {
        v.split('.')
            .map(|p| (p.parse().unwrap_or(0), p.to_owned()))
            .collect()
    };
    parts(a).cmp(&parts(b))
}

/// Every policy the service knows (id, version, owner, title, fact type).
#[utoipa::path(get, path = "/policies", tag = "policies",
    responses((status = 200, description = "The policies, each as its JSON document")))]
pub async fn list(state: web::Data<AppState>) -> HttpResponse {
    let all: Vec<_> = state.policies.values().map(Policy::to_json).collect();
    HttpResponse::Ok().json(all)
}

/// One policy at one version.
#[utoipa::path(get, path = "/policies/{id}/{version}", tag = "policies",
    params(("id" = String, Path), ("version" = String, Path)),
    responses((status = 200, description = "The policy document"), (status = 404, body = crate::error::Problem)))]
pub async fn get(
    state: web::Data<AppState>,
    path: web::Path<(String, String)>,
) -> ApiResult<HttpResponse> {
    let (id, version) = path.into_inner();
    let policy = find(&state.policies, &id, Some(&version))?;
    Ok(HttpResponse::Ok().json(policy.to_json()))
}

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/policies", web::get().to(list))
        .route("/policies/{id}/{version}", web::get().to(get));
}

#[derive(utoipa::OpenApi)]
#[openapi(paths(list, get))]
pub struct Api;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shipped_policies_load_and_versions_order_numerically() {
        let policies = load(None).unwrap();
        assert!(find(&policies, "be.example.municipality/residence", None).is_ok());
        assert!(
            find(
                &policies,
                "be.example.municipality/residence",
                Some("9.9.9")
            )
            .is_err()
        );
        assert_eq!(
            compare_versions("1.10.0", "1.9.2"),
            std::cmp::Ordering::Greater
        );
        assert_eq!(compare_versions("2", "10"), std::cmp::Ordering::Less);
    }
}
