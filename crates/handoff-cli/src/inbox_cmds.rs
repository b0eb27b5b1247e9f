//! `handoff inbox` and `handoff turnaround`: what others did since one last looked, and how
//! long handoffs waited, from the local copy (offline too; `handoff sync` brings news).

use anyhow::Result;
use clap::Subcommand;
use handoff_client::Client;

use crate::output::Printer;

/// Mark inbox items read.
#[derive(Subcommand, Debug)]
pub enum InboxCommand {
    /// Mark a spec's items read (every spec's with --all); your other devices follow after a sync.
    Read {
        /// The spec (id, id prefix or title).
        spec: Option<String>,
        /// Every spec.
        #[arg(long, conflicts_with = "spec")]
        all: bool,
    },
}

/// `handoff inbox [--all] [--spec SPEC]` and `handoff inbox read SPEC|--all`.
pub fn inbox(client: &Client, out: &Printer, all: bool, spec: Option<String>, cmd: Option<InboxCommand>) -> Result<()> {
    if spec.is_some() && cmd.is_some() {
        anyhow::bail!("--spec lists one spec's items; to mark it read: handoff inbox read SPEC");
    }
    match cmd {
        None => match spec {
            Some(spec) => out.inbox_spec(&client.inbox_spec(client.resolve_spec(&spec)?, all)?, all),
            None => out.inbox(&client.inbox(all)?),
        },
        Some(InboxCommand::Read { spec: Some(spec), .. }) => {
            let spec = client.resolve_spec(&spec)?;
            let marked = client.mark_read(spec, None)?;
            out.done(if marked { "marked read; sync to tell your other devices" } else { "nothing unread there" })
        }
        Some(InboxCommand::Read { spec: None, all: true }) => {
            let n = client.mark_all_read()?;
            out.done(&format!("marked {n} spec{} read; sync to tell your other devices", if n == 1 { "" } else { "s" }))
        }
        Some(InboxCommand::Read { spec: None, all: false }) => {
            anyhow::bail!("name the spec to mark read, or --all for every spec")
        }
    }
}
