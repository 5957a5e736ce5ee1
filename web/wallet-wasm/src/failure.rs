//! Failures as the pages see them: a JavaScript `Error` named `WalletFailure` with a stable
//! `code` (what translations key on) and the core's English `message`; a problem the service
//! answered with also carries its HTTP `status` and its own `serviceCode`.

use corroborate_wallet::client::ClientError;
use corroborate_wallet::flows::FlowError;
use corroborate_wallet::identity::IdentityError;
use corroborate_wallet::platform::StorageError;
use corroborate_wallet::store::WalletError;
use wasm_bindgen::JsValue;

/// A failure on its way to JavaScript.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Failure {
    pub code: &'static str,
    pub message: String,
    /// The service's problem: HTTP status and code.
    pub problem: Option<(u16, String)>,
}

impl Failure {
    pub fn new(code: &'static str, message: impl Into<String>) -> Failure {
        Failure {
            code,
            message: message.into(),
            problem: None,
        }
    }

    pub fn invalid(message: impl Into<String>) -> Failure {
        Failure::new("invalid", message)
    }
}

impl From<FlowError> for Failure {
    fn from(error: FlowError) -> Failure {
        let problem = match &error {
            FlowError::Service(ClientError::Problem { status, code, .. }) => {
                Some((*status, code.clone()))
            }
            _ => None,
        };
        Failure {
            code: error.code(),
            message: error.to_string(),
            problem,
        }
    }
}

impl From<WalletError> for Failure {
    fn from(error: WalletError) -> Failure {
        Failure::new(error.code(), error.to_string())
    }
}

impl From<IdentityError> for Failure {
    fn from(error: IdentityError) -> Failure {
        Failure::new(error.code(), error.to_string())
    }
}

impl From<StorageError> for Failure {
    fn from(error: StorageError) -> Failure {
        Failure::new("storage", error.to_string())
    }
}

impl From<Failure> for JsValue {
    fn from(failure: Failure) -> JsValue {
        let error = js_sys::Error::new(&failure.message);
        error.set_name("WalletFailure");
        let set = |name: &str, value: JsValue| {
            // Setting a property on a fresh Error cannot fail.
            let _ = js_sys::Reflect::set(&error, &name.into(), &value);
        };
        set("code", failure.code.into());
        if let Some((status, code)) = failure.problem {
            set("status", status.into());
            set("serviceCode", code.into());
        }
        error.into()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_service_problem_keeps_its_status_and_code() {
        let failure = Failure::from(FlowError::Service(ClientError::Problem {
            status: 409,
            code: "conflict".into(),
            title: "Conflict".into(),
            detail: Some("already answered".into()),
            body: serde_json::Value::Null,
        }));
        assert_eq!(failure.code, "service");
        assert_eq!(failure.problem, Some((409, "conflict".into())));
        assert!(failure.message.contains("already answered"));
    }

    #[test]
    fn a_wrong_passphrase_is_its_own_code() {
        let failure = Failure::from(WalletError::WrongPassphrase);
        assert_eq!(
            failure,
            Failure::new("wrong_passphrase", "wrong passphrase")
        );
    }
}
