use serde::{Deserialize, Serialize};
use std::fmt;

macro_rules! id_type {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
        #[serde(transparent)]
        pub struct $name(pub i64);

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, "{}", self.0)
            }
        }
    };
}

id_type!(
    /// A feature in the backlog; assigned by the store.
    FeatureId
);
id_type!(
    /// A request to run a profile; assigned by the store.
    JobId
);
id_type!(
    /// One execution of a job; assigned by the store before the process is spawned.
    RunId
);

/// What kind of work a profile's agent does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// Turns a spec into features.
    Initializer,
    /// Implements one feature.
    Coding,
    /// Re-checks one passing feature.
    Testing,
    /// Anything else.
    Custom,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Initializer => "initializer",
            Role::Coding => "coding",
            Role::Testing => "testing",
            Role::Custom => "custom",
        }
    }

    /// Reads the word [`Role::as_str`] gives.
    pub fn parse(word: &str) -> Option<Role> {
        [Role::Initializer, Role::Coding, Role::Testing, Role::Custom]
            .into_iter()
            .find(|r| r.as_str() == word)
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}
