//! Host services that plugins reach through their WIT imports, each
//! granted per plugin in the host config.

pub mod fetch;
