//! Loads the layered configuration: built-in defaults, `--config FILE`, `BYRAAD__SECTION__KEY`,
//! then command-line flags (applied by the caller).

use std::path::Path;

use anyhow::Context;
use byraad_core::config::{Config, DEFAULTS};
use figment::Figment;
use figment::providers::{Env, Format, Toml};

/// Loads and validates the configuration.
pub fn load(file: Option<&Path>) -> anyhow::Result<Config> {
    let mut figment = Figment::new().merge(Toml::string(DEFAULTS));
    if let Some(file) = file {
        anyhow::ensure!(file.is_file(), "config file {} does not exist", file.display());
        figment = figment.merge(Toml::file_exact(file));
    }
    figment = figment.merge(Env::prefixed("BYRAAD__").split("__").lowercase(true));
    let config: Config = figment.extract().context("invalid configuration")?;
    Ok(config)
}
