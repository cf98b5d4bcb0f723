//! duban (督办): a responsibility-chain task and accountability tracker for
//! local government. See `docs/architecture.md` for the layout.

pub mod accountability;
pub mod assessments;
pub mod audit;
pub mod auth;
pub mod bulletins;
pub mod calendar;
pub mod cli;
pub mod config;
pub mod db;
pub mod demo;
pub mod domain;
pub mod error;
pub mod health;
pub mod heartbeat;
pub mod holidays;
pub mod http;
pub mod import;
pub mod indicators;
pub mod jobs;
pub mod mail;
pub mod notices;
pub mod openapi;
pub mod plans;
pub mod rankings;
pub mod render;
pub mod secrets;
pub mod startup;
pub mod state;
pub mod stats;
pub mod storage;
pub mod tasks;
pub mod telemetry;
pub mod units;
pub mod users;
pub mod web;
