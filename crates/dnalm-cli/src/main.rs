//! `dnalm`: DNA as a language, from FASTA to results. This binary only
//! parses arguments, wires the library crates together and prints; the
//! domain logic lives in `dnalm-seq`, `dnalm-tokenizers`, `dnalm-model` and
//! `dnalm-train`.

mod args;
mod cmd_book_dict;
mod cmd_book_eval;
mod cmd_book_train;
mod cmd_book_write;
mod cmd_corpus;
mod cmd_embed;
mod cmd_model;
mod cmd_nextkmer;
mod cmd_promoter;
mod cmd_promoter_predict;
mod cmd_quickstart;
mod cmd_tfidf;
mod cmd_tokenizer;
mod duration;
mod files;
mod input;
mod progress;

use std::process::ExitCode;

use clap::Parser;

use args::{BookCommand, Cli, Command, PromoterCommand, TokenizerCommand};

// glibc's malloc hands large tensor buffers back to the OS and faults them in
// again on the next step; mimalloc keeps them (a tiny-model training step was
// measured 15-25% faster with it).
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            // Help and version go to stdout with exit 0; usage errors exit 2.
            let _ = e.print();
            return ExitCode::from(if e.use_stderr() { 2 } else { 0 });
        }
    };
    let name = cli.command.name();
    init_logging(cli.quiet, cli.verbose);
    progress::set_quiet(cli.quiet);
    if let Some(j) = cli.threads {
        if let Err(e) = rayon::ThreadPoolBuilder::new()
            .num_threads(j)
            .build_global()
        {
            eprintln!("dnalm {name}: error: cannot start {j} threads: {e}");
            return ExitCode::from(1);
        }
    }
    let result = match cli.command {
        Command::Corpus(a) => cmd_corpus::run(a).map(drop),
        Command::Tokenizer { command } => match command {
            TokenizerCommand::Train(a) => cmd_tokenizer::train(a),
            TokenizerCommand::Encode(a) => cmd_tokenizer::encode(a),
            TokenizerCommand::Decode(a) => cmd_tokenizer::decode(a),
            TokenizerCommand::Stats(a) => cmd_tokenizer::stats(a),
            TokenizerCommand::Export(a) => cmd_tokenizer::export(a),
        },
        Command::Tfidf(a) => cmd_tfidf::run(a),
        Command::Nextkmer(a) => cmd_nextkmer::run(*a).map(|_| ()),
        Command::Quickstart(a) => cmd_quickstart::run(a),
        Command::Pretrain(a) => cmd_model::pretrain(*a),
        Command::ExportHf(a) => cmd_model::export_hf(a),
        Command::Inspect(a) => cmd_model::inspect(a, cli.verbose),
        Command::Embed(a) => cmd_embed::embed(a),
        Command::Vectors(a) => cmd_embed::vectors(a),
        Command::Attention(a) => cmd_embed::attention(a),
        Command::Motifs(a) => cmd_embed::motifs(a),
        Command::Promoter { command } => match command {
            PromoterCommand::Data(a) => cmd_promoter::data(a),
            PromoterCommand::Train(a) => cmd_promoter::train(*a),
            PromoterCommand::Scan(a) => cmd_promoter::scan(a),
            PromoterCommand::Predict(a) => cmd_promoter_predict::predict(a),
        },
        Command::Book(a) => match a.command {
            BookCommand::Train(a) => cmd_book_train::train(a),
            BookCommand::Write(a) => cmd_book_write::run(a),
            BookCommand::Dictionary(a) => cmd_book_dict::run(a),
            BookCommand::Eval(a) => cmd_book_eval::run(a),
        },
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) if is_broken_pipe(&e) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("dnalm {name}: error: {e:#}");
            ExitCode::from(1)
        }
    }
}

/// A closed stdout (`dnalm ... | head`) is not an error.
fn is_broken_pipe(e: &anyhow::Error) -> bool {
    e.chain().any(|c| {
        c.downcast_ref::<std::io::Error>()
            .is_some_and(|io| io.kind() == std::io::ErrorKind::BrokenPipe)
            || c.to_string().contains("Broken pipe")
    })
}

fn init_logging(quiet: bool, verbose: u8) {
    let level = match (quiet, verbose) {
        (true, _) => "warn",
        (false, 0) => "info",
        (false, 1) => "debug",
        _ => "trace",
    };
    let filter = tracing_subscriber::EnvFilter::try_from_env("DNALM_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(level));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .without_time()
        .with_target(false)
        .with_level(false)
        .init();
}
