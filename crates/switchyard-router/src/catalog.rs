//! The catalog of public model names.

use std::collections::BTreeMap;
use std::sync::Arc;

use switchyard_types::Provider;

use crate::deployment::Deployment;
use crate::hedge::Hedge;
use crate::strategy::Strategy;
use crate::task::Tasks;

/// A public model name (a model group, or an alias of one deployment) and the
/// deployments that can serve it, in configured order, with how to choose among them.
#[derive(Debug, Clone)]
pub struct Route {
    pub name: String,
    pub description: Option<String>,
    pub deployments: Vec<Deployment>,
    pub strategy: Strategy,
    /// Prompts in a language (ISO 639-3 code) go first to this deployment.
    pub languages: BTreeMap<&'static str, String>,
    /// The tasks the `semantic` strategy recognises, and the deployment each goes to.
    pub tasks: Option<Arc<Tasks>>,
    /// When a slow first deployment is hedged with the rest of the plan.
    pub hedge: Option<Arc<Hedge>>,
}

impl Route {
    /// A route trying `providers` in order, with profiles that know only what each
    /// provider reports.
    pub fn new(name: impl Into<String>, providers: Vec<Arc<dyn Provider>>) -> Self {
        Route {
            name: name.into(),
            description: None,
            deployments: providers.into_iter().map(Deployment::new).collect(),
            strategy: Strategy::Priority,
            languages: BTreeMap::new(),
            tasks: None,
            hedge: None,
        }
    }

    /// Whether any deployment serves embeddings.
    pub fn serves_embeddings(&self) -> bool {
        self.deployments
            .iter()
            .any(|deployment| deployment.info().capabilities.embeddings)
    }
}

#[derive(Debug, Clone, Default)]
pub struct Catalog {
    routes: BTreeMap<String, Route>,
}

/// The caller asked for a model no route serves.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{}", self.describe())]
pub struct UnknownModel {
    pub model: String,
    /// Configured names close to the one asked for, closest first.
    pub suggestions: Vec<String>,
}

impl UnknownModel {
    fn describe(&self) -> String {
        let mut message = format!("the model `{}` does not exist", self.model);
        match self.suggestions.as_slice() {
            [] => {}
            [one] => message.push_str(&format!("; did you mean `{one}`?")),
            many => {
                let names: Vec<String> = many.iter().map(|name| format!("`{name}`")).collect();
                message.push_str(&format!("; did you mean one of {}?", names.join(", ")));
            }
        }
        message
    }
}

impl Catalog {
    pub fn new(routes: impl IntoIterator<Item = Route>) -> Self {
        Catalog {
            routes: routes
                .into_iter()
                .map(|route| (route.name.clone(), route))
                .collect(),
        }
    }

    pub fn routes(&self) -> impl Iterator<Item = &Route> {
        self.routes.values()
    }

    pub fn len(&self) -> usize {
        self.routes.len()
    }

    pub fn is_empty(&self) -> bool {
        self.routes.is_empty()
    }

    pub fn get(&self, model: &str) -> Result<&Route, UnknownModel> {
        self.routes.get(model).ok_or_else(|| UnknownModel {
            model: model.to_owned(),
            suggestions: self.suggest(model),
        })
    }

    /// Up to three configured names that look like `model`: same name in another case,
    /// a name containing it (or contained in it), or a small edit distance away.
    fn suggest(&self, model: &str) -> Vec<String> {
        let wanted = model.to_lowercase();
        let mut scored: Vec<(f64, &str)> = self
            .routes
            .keys()
            .filter_map(|name| {
                let candidate = name.to_lowercase();
                // Jaro-Winkler ranks well but misses transpositions in short names
                // (`gtp` for `gpt`); a small edit distance catches those.
                let similarity = strsim::jaro_winkler(&wanted, &candidate)
                    .max(strsim::normalized_damerau_levenshtein(&wanted, &candidate));
                let edits = strsim::damerau_levenshtein(&wanted, &candidate);
                let few_edits = edits <= (wanted.len().max(candidate.len()) / 4).max(1);
                // Same name in another case first, then names containing one another,
                // then near spellings; similarity breaks ties within each group.
                let score = if candidate == wanted {
                    3.0
                } else if wanted.len() >= 3
                    && (candidate.contains(&wanted) || wanted.contains(&candidate))
                {
                    1.0 + similarity
                } else if similarity >= 0.8 || few_edits {
                    similarity
                } else {
                    return None;
                };
                Some((score, name.as_str()))
            })
            .collect();
        scored.sort_by(|a, b| b.0.total_cmp(&a.0).then_with(|| a.1.cmp(b.1)));
        scored
            .into_iter()
            .take(3)
            .map(|(_, name)| name.to_owned())
            .collect()
    }
}
