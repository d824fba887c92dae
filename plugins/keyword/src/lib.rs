//! Keyword reply plugin (placeholder until the runtime lands).
wit_bindgen::generate!({ path: "../../wit", world: "plugin" });
