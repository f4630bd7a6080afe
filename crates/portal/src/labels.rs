//! Italian words for the domain's machine values, as pages show them (the API keeps the codes).

use bando::model::{AwardCriterion, ContractType, ProcedureType, State};

pub fn procedure(p: ProcedureType) -> &'static str {
    match p {
        ProcedureType::AffidamentoDiretto => "Affidamento diretto",
        ProcedureType::NegoziataSenzaBando => "Procedura negoziata senza bando",
        ProcedureType::Aperta => "Procedura aperta",
        ProcedureType::Ristretta => "Procedura ristretta",
        ProcedureType::CompetitivaConNegoziazione => "Procedura competitiva con negoziazione",
    }
}

pub fn state(s: State) -> &'static str {
    match s {
        State::Draft => "In bozza",
        State::Published => "In corso: offerte aperte",
        State::SubmissionsClosed => "Termine scaduto",
        State::Opening => "Apertura delle buste",
        State::Evaluation => "In valutazione",
        State::ProposedAward => "Proposta di aggiudicazione",
        State::Awarded => "Aggiudicata",
        State::Effective => "Aggiudicata (efficace)",
        State::Cancelled => "Annullata",
        State::Deserted => "Deserta",
    }
}

pub fn criterion(c: AwardCriterion) -> &'static str {
    match c {
        AwardCriterion::MinorPrezzo => "Minor prezzo",
        AwardCriterion::Oepv => "Offerta economicamente più vantaggiosa",
    }
}

pub fn contract(c: ContractType) -> &'static str {
    match c {
        ContractType::Works => "Lavori",
        ContractType::Services => "Servizi",
        ContractType::Supplies => "Forniture",
    }
}

pub fn envelope(kind: &str) -> &'static str {
    match kind {
        "A" => "Busta A · documentazione amministrativa",
        "B" => "Busta B · offerta tecnica",
        "C" => "Busta C · offerta economica",
        _ => "Busta",
    }
}
