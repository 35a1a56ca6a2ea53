//! `nlpd` command-line tests (running the real binary).
