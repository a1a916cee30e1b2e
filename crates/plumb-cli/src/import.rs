//! Flags of `plumb import`: a recording (HAR), an OpenAPI document or a curl command, written
//! out as a flow file.

use clap::{Args, Subcommand};
use std::path::PathBuf;

/// Arguments of `plumb import`.
#[derive(Debug, Args)]
#[command(after_help = "Then check the file against the server: plumb load -f FILE URL --dry-run")]
pub struct ImportArgs {
    /// What to import.
    #[command(subcommand)]
    pub source: ImportSource,
    /// Write the flow file here instead of stdout
    #[arg(short = 'o', long = "output", value_name = "FILE", global = true)]
    pub output: Option<PathBuf>,
}

/// The kinds of recording plumb imports.
#[derive(Debug, Subcommand)]
pub enum ImportSource {
    /// A browser's recording (HAR 1.2): requests to other origins dropped, recorded gaps as
    /// think times, values of responses sent back later as captures
    Har {
        /// The .har file
        file: PathBuf,
        /// Keep the requests to this origin (http://host:port) [default: the first request's]
        #[arg(long, value_name = "ORIGIN")]
        origin: Option<String>,
        /// The flow's name
        #[arg(long, value_name = "NAME", default_value = "recorded")]
        flow: String,
    },
    /// An OpenAPI 3 document (JSON or YAML): one step per operation, with its example values
    Openapi {
        /// The .json, .yaml or .yml file (another name: JSON if it starts with '{', else YAML)
        file: PathBuf,
    },
    /// A curl command line (as "copy as cURL" writes it), quoted as one argument
    Curl {
        /// The command, e.g. 'curl -X POST -d a=1 http://127.0.0.1:8080/login'
        command: String,
    },
}
