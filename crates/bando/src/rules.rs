//! Validation. Two layers:
//! * [`validate`]: the shape of a draft (identifiers, amounts, weights, deadline order).
//!   It stops at the first problem with that field's own code (422).
//! * [`legal_violations`]: the rules of the Code that depend on numbers in
//!   [`domain::legal::LegalTable`], checked at publication against the table in force that
//!   day; every violation is reported, each message starting with its article.

use std::collections::HashSet;

use accounts::qualification::AuthorityProfile;
use chrono::{DateTime, Utc};
use domain::deadlines::{self, calendar_days};
use domain::holidays::Counting;
use domain::ids::{Cig, Cpv, Cup, Nuts};
use domain::legal::{AuthorityKind, LegalTable, QualificationNeed, QualificationSector, Rule};
use rust_decimal::Decimal;
use uuid::Uuid;

use crate::error::{BandoError, Violation};
use crate::model::*;

/// A draft that passed [`validate`]: typed, normalized.
#[derive(Debug, Clone)]
pub struct Spec {
    pub ente_id: Uuid,
    pub oggetto: String,
    pub cig: Option<Cig>,
    pub cup: Option<Cup>,
    pub cpv_main: Cpv,
    pub cpv_additional: Vec<Cpv>,
    pub nuts: Nuts,
    pub contract_type: ContractType,
    pub procedure_type: ProcedureType,
    pub award_criterion: AwardCriterion,
    pub oepv: Option<Oepv>,
    pub base_amount: Decimal,
    pub safety_costs: Decimal,
    pub labour_intensive: bool,
    pub intellectual_services: bool,
    pub framework_agreement: bool,
    pub dynamic_purchasing_system: bool,
    pub urgency_reason: Option<String>,
    pub questions_deadline: Option<DateTime<Utc>>,
    pub submission_deadline: Option<DateTime<Utc>>,
    pub opening_at: Option<DateTime<Utc>>,
    pub offer_validity_days: i32,
    pub envelopes: Vec<Envelope>,
    pub anomaly_method: Option<AnomalyMethod>,
    pub anomaly_terms: crate::AnomalyTerms,
    pub custodians: Vec<Uuid>,
    pub custodian_threshold: i32,
    pub invitees: Vec<Uuid>,
    pub lotti: Vec<LottoSpec>,
    pub conducted_by: ConductedBy,
}

/// What the legal rules look at; built from a validated draft or from a stored tender.
#[derive(Debug, Clone)]
pub struct Facts {
    pub contract_type: ContractType,
    pub procedure_type: ProcedureType,
    pub award_criterion: AwardCriterion,
    pub oepv: Option<Oepv>,
    pub base_amount: Decimal,
    pub labour_intensive: bool,
    pub intellectual_services: bool,
    pub urgency_reason: Option<String>,
    pub questions_deadline: Option<DateTime<Utc>>,
    pub submission_deadline: Option<DateTime<Utc>>,
    pub opening_at: Option<DateTime<Utc>>,
    pub envelopes: Vec<Envelope>,
    pub anomaly_method: Option<AnomalyMethod>,
    pub anomaly_terms: crate::AnomalyTerms,
    pub custodians: Vec<Uuid>,
    pub invitees: Vec<Uuid>,
    /// The kind of the ente on whose behalf the tender runs (art. 14 c.1 lett. b-c).
    pub authority: AuthorityKind,
    pub conducted_by: ConductedBy,
    /// The authority that runs it, whose qualification counts (arts. 62-63).
    pub runner: Runner,
}

/// The authority running a tender, as far as the qualification rules see it.
#[derive(Debug, Clone)]
pub enum Runner {
    /// Not looked up: only the shape and the other rules are checked (unit tests).
    Unchecked,
    /// The tender is entrusted to the centrale, but no ente is registered as the centrale.
    CentraleMissing,
    Known(AuthorityProfile),
}

impl Spec {
    /// The facts of a draft not yet stored: a sub-central ente, runner not looked up.
    #[cfg(test)]
    pub fn facts(&self) -> Facts {
        Facts {
            contract_type: self.contract_type,
            procedure_type: self.procedure_type,
            award_criterion: self.award_criterion,
            oepv: self.oepv.clone(),
            base_amount: self.base_amount,
            labour_intensive: self.labour_intensive,
            intellectual_services: self.intellectual_services,
            urgency_reason: self.urgency_reason.clone(),
            questions_deadline: self.questions_deadline,
            submission_deadline: self.submission_deadline,
            opening_at: self.opening_at,
            envelopes: self.envelopes.clone(),
            anomaly_method: self.anomaly_method,
            anomaly_terms: self.anomaly_terms.clone(),
            custodians: self.custodians.clone(),
            invitees: self.invitees.clone(),
            authority: AuthorityKind::SubCentral,
            conducted_by: self.conducted_by,
            runner: Runner::Unchecked,
        }
    }
}

#[derive(Debug, Clone)]
pub struct LottoSpec {
    pub oggetto: String,
    pub cig: Cig,
    pub base_amount: Decimal,
    pub safety_costs: Decimal,
}

fn id_err<T>(field: &str, r: Result<T, domain::ids::IdError>) -> Result<T, BandoError> {
    r.map_err(|e| BandoError::invalid(e.code(), field, e.to_string()))
}

/// A Rome wall time (or RFC 3339 instant) to UTC, naming the field on error.
pub fn parse_time(field: &str, input: &str) -> Result<DateTime<Utc>, BandoError> {
    deadlines::parse_rome(input).map_err(|e| BandoError::invalid(e.code(), field, format!("{field}: {e}")))
}

fn opt_time(field: &str, input: &Option<String>) -> Result<Option<DateTime<Utc>>, BandoError> {
    input.as_deref().map(|s| parse_time(field, s)).transpose()
}

fn amount(field: &str, value: Decimal, allow_zero: bool) -> Result<Decimal, BandoError> {
    let ok = if allow_zero {
        value >= Decimal::ZERO
    } else {
        value > Decimal::ZERO
    };
    if !ok || value.normalize().scale() > 2 || value >= Decimal::from(10_000_000_000_000_i64) {
        return Err(BandoError::invalid(
            "amount_invalid",
            field,
            format!(
                "{field}: importo non valido (euro, al più 2 decimali{})",
                if allow_zero { "" } else { ", maggiore di zero" }
            ),
        ));
    }
    Ok(value.round_dp(2))
}

fn check_criteria(criteria: &[Criterion], path: &str) -> Result<(), BandoError> {
    let mut codes = HashSet::new();
    for (i, c) in criteria.iter().enumerate() {
        let field = format!("{path}[{i}]");
        if c.code.trim().is_empty() || !codes.insert(c.code.trim().to_string()) {
            return Err(BandoError::invalid(
                "oepv_criterion_code",
                &field,
                "Ogni criterio ha un codice, unico al suo livello",
            ));
        }
        if c.weight <= Decimal::ZERO {
            return Err(BandoError::invalid(
                "oepv_weight_invalid",
                &field,
                "Il peso di un criterio deve essere positivo",
            ));
        }
        if !c.sub_criteria.is_empty() {
            let sum: Decimal = c.sub_criteria.iter().map(|s| s.weight).sum();
            if sum != c.weight {
                return Err(BandoError::invalid(
                    "oepv_subcriteria_sum",
                    &field,
                    format!(
                        "art. 108 c.7–8: i sub-criteri di {} sommano {sum}, non {}",
                        c.code, c.weight
                    ),
                ));
            }
            check_criteria(&c.sub_criteria, &format!("{field}.sub_criteria"))?;
        }
        check_rule(c, &field)?;
    }
    Ok(())
}

/// A quantitative criterion's formula and a tabular criterion's table (ANAC Linee guida n. 2;
/// domain.md §5): only on their own kind; a range with min < max; coefficients in [0, 1];
/// each row one option or one range, options unique, ranges not overlapping. A criterion of
/// either kind without its rule is accepted here, but its technical phase cannot close.
fn check_rule(c: &Criterion, field: &str) -> Result<(), BandoError> {
    let rule = |m: &str| BandoError::invalid("oepv_criterion_rule", field, m.to_string());
    match c.kind {
        CriterionKind::Discretionary if c.quantitative.is_some() || !c.table.is_empty() => {
            return Err(rule(
                "Un criterio discrezionale non ha formula né tabella: i coefficienti sono dei commissari",
            ));
        }
        CriterionKind::Quantitative if !c.table.is_empty() => {
            return Err(rule("Un criterio quantitativo ha una formula, non una tabella"))
        }
        CriterionKind::Tabular if c.quantitative.is_some() => {
            return Err(rule("Un criterio tabellare ha una tabella, non una formula"))
        }
        _ => {}
    }
    if !c.sub_criteria.is_empty() && (c.quantitative.is_some() || !c.table.is_empty()) {
        return Err(rule(
            "Formula e tabella stanno nei sub-criteri, non nel criterio che li raggruppa",
        ));
    }
    if let Some(q) = &c.quantitative {
        if q.min >= q.max {
            return Err(BandoError::invalid(
                "oepv_quantitative_range",
                &format!("{field}.quantitative"),
                "L'intervallo della formula richiede min < max",
            ));
        }
    }
    let mut options = HashSet::new();
    let mut ranges: Vec<(Option<Decimal>, Option<Decimal>)> = Vec::new();
    for (r, row) in c.table.iter().enumerate() {
        let rf = format!("{field}.table[{r}]");
        if row.coefficient < Decimal::ZERO || row.coefficient > Decimal::ONE || row.coefficient.normalize().scale() > 10
        {
            return Err(BandoError::invalid(
                "oepv_table_coefficient",
                &rf,
                "Il coefficiente di una riga è compreso tra 0 e 1 (al più 10 decimali)",
            ));
        }
        let is_range = row.from.is_some() || row.to.is_some();
        match (&row.option, is_range) {
            (Some(o), false) => {
                if o.trim().is_empty() || !options.insert(o.trim().to_string()) {
                    return Err(BandoError::invalid(
                        "oepv_table_row",
                        &rf,
                        "Ogni opzione della tabella è un testo non vuoto e unico",
                    ));
                }
            }
            (None, true) => {
                if let (Some(f), Some(t)) = (row.from, row.to) {
                    if f >= t {
                        return Err(BandoError::invalid(
                            "oepv_table_row",
                            &rf,
                            "Un intervallo richiede from < to",
                        ));
                    }
                }
                let overlaps = ranges.iter().any(|(f2, t2)| {
                    let starts_before_other_ends = match (row.from, t2) {
                        (Some(a), Some(b)) => a < *b,
                        _ => true,
                    };
                    let other_starts_before_end = match (f2, row.to) {
                        (Some(a), Some(b)) => *a < b,
                        _ => true,
                    };
                    starts_before_other_ends && other_starts_before_end
                });
                if overlaps {
                    return Err(BandoError::invalid(
                        "oepv_table_overlap",
                        &rf,
                        "Gli intervalli della tabella non si sovrappongono",
                    ));
                }
                ranges.push((row.from, row.to));
            }
            _ => {
                return Err(BandoError::invalid(
                    "oepv_table_row",
                    &rf,
                    "Ogni riga indica un'opzione oppure un intervallo (from/to), non entrambi",
                ))
            }
        }
    }
    if !options.is_empty() && !ranges.is_empty() {
        return Err(rule("Una tabella è di opzioni oppure di intervalli, non di entrambi"));
    }
    Ok(())
}

fn check_oepv(o: &Oepv) -> Result<(), BandoError> {
    if o.criteria.is_empty() {
        return Err(BandoError::invalid(
            "oepv_criteria_required",
            "oepv.criteria",
            "L'OEPV richiede almeno un criterio tecnico",
        ));
    }
    check_criteria(&o.criteria, "oepv.criteria")?;
    if o.economic_weight <= Decimal::ZERO {
        return Err(BandoError::invalid(
            "oepv_weight_invalid",
            "oepv.economic_weight",
            "Il peso economico deve essere positivo",
        ));
    }
    let total = o.technical_weight() + o.economic_weight;
    if total != Decimal::from(100) {
        return Err(BandoError::invalid(
            "oepv_weights_sum",
            "oepv",
            format!("art. 108 c.8: i pesi tecnici ed economico devono sommare 100 punti, sommano {total}"),
        ));
    }
    if let Some(t) = o.technical_threshold {
        if t < Decimal::ZERO || t > o.technical_weight() {
            return Err(BandoError::invalid(
                "oepv_threshold_invalid",
                "oepv.technical_threshold",
                "La soglia di sbarramento deve essere tra 0 e il punteggio tecnico massimo",
            ));
        }
    }
    let f = &o.economic_formula;
    match f.kind {
        FormulaKind::Concave if !f.alpha.is_some_and(|a| a > Decimal::ZERO && a < Decimal::ONE) => {
            return Err(BandoError::invalid(
                "formula_alpha",
                "oepv.economic_formula.alpha",
                "La formula concava richiede 0 < alpha < 1",
            ));
        }
        FormulaKind::Interpolation if f.alpha.is_some_and(|a| a <= Decimal::ZERO) => {
            return Err(BandoError::invalid(
                "formula_alpha",
                "oepv.economic_formula.alpha",
                "alpha deve essere positivo",
            ));
        }
        FormulaKind::Bilinear
            if !f
                .x
                .is_some_and(|x| [Decimal::new(80, 2), Decimal::new(85, 2), Decimal::new(90, 2)].contains(&x)) =>
        {
            return Err(BandoError::invalid(
                "formula_x",
                "oepv.economic_formula.x",
                "La formula bilineare richiede X pari a 0.80, 0.85 o 0.90",
            ));
        }
        _ => {}
    }
    Ok(())
}

/// The shape of a draft. `default_validity` comes from the legal table (art. 17 c.4).
pub fn validate(input: &NewBando, default_validity: i64) -> Result<Spec, BandoError> {
    let oggetto = input.oggetto.trim().to_string();
    if oggetto.is_empty() {
        return Err(BandoError::invalid(
            "oggetto_required",
            "oggetto",
            "L'oggetto dell'appalto è obbligatorio",
        ));
    }
    let cig = input.cig.as_deref().map(|c| id_err("cig", Cig::parse(c))).transpose()?;
    if cig.is_none() && input.lotti.is_empty() {
        return Err(BandoError::invalid(
            "cig_required",
            "cig",
            "Il CIG è obbligatorio (o un CIG per ciascun lotto)",
        ));
    }
    let cup = input
        .cup
        .as_deref()
        .filter(|c| !c.trim().is_empty())
        .map(|c| id_err("cup", Cup::parse(c)))
        .transpose()?;
    let cpv_main = id_err("cpv_main", Cpv::parse(&input.cpv_main))?;
    let mut cpv_additional = Vec::new();
    for (i, c) in input.cpv_additional.iter().enumerate() {
        let cpv = id_err(&format!("cpv_additional[{i}]"), Cpv::parse(c))?;
        if cpv != cpv_main && !cpv_additional.contains(&cpv) {
            cpv_additional.push(cpv);
        }
    }
    let nuts = id_err("nuts", Nuts::parse(&input.nuts))?;
    let base_amount = amount("base_amount", input.base_amount, false)?;
    let safety_costs = amount("safety_costs", input.safety_costs, true)?;
    if safety_costs >= base_amount {
        return Err(BandoError::invalid(
            "safety_costs_too_high",
            "safety_costs",
            "Gli oneri della sicurezza sono parte dell'importo a base e devono essere minori di esso",
        ));
    }
    match (input.award_criterion, &input.oepv) {
        (AwardCriterion::Oepv, None) => {
            return Err(BandoError::invalid(
                "oepv_required",
                "oepv",
                "Con il criterio OEPV servono i criteri, i pesi e la formula economica",
            ));
        }
        (AwardCriterion::MinorPrezzo, Some(_)) => {
            return Err(BandoError::invalid(
                "oepv_not_allowed",
                "oepv",
                "Con il minor prezzo non si indicano criteri OEPV",
            ));
        }
        (AwardCriterion::Oepv, Some(o)) => check_oepv(o)?,
        _ => {}
    }
    let questions_deadline = opt_time("questions_deadline", &input.questions_deadline)?;
    let submission_deadline = opt_time("submission_deadline", &input.submission_deadline)?;
    let opening_at = opt_time("opening_at", &input.opening_at)?;
    if let (Some(q), Some(s)) = (questions_deadline, submission_deadline) {
        if q >= s {
            return Err(BandoError::invalid(
                "deadline_order",
                "questions_deadline",
                "Il termine per i quesiti deve precedere la scadenza delle offerte",
            ));
        }
    }
    if let (Some(s), Some(o)) = (submission_deadline, opening_at) {
        if o < s {
            return Err(BandoError::invalid(
                "deadline_order",
                "opening_at",
                "L'apertura non può precedere la scadenza delle offerte",
            ));
        }
    }
    let offer_validity_days = input.offer_validity_days.unwrap_or(default_validity as i32);
    if !(1..=3650).contains(&offer_validity_days) {
        return Err(BandoError::invalid(
            "offer_validity_invalid",
            "offer_validity_days",
            "La validità dell'offerta deve essere un numero di giorni positivo",
        ));
    }
    let mut envelopes = Vec::new();
    for e in Envelope::ALL {
        if input.envelopes.contains(e) {
            envelopes.push(*e);
        }
    }
    if envelopes.len() != input.envelopes.len() {
        return Err(BandoError::invalid(
            "envelopes_duplicate",
            "envelopes",
            "Ogni busta si indica una sola volta",
        ));
    }
    let mut seen = HashSet::new();
    if !input.custodians.iter().all(|c| seen.insert(*c)) {
        return Err(BandoError::invalid(
            "custodians_duplicate",
            "custodians",
            "Un custode compare più volte",
        ));
    }
    let n = input.custodians.len() as i32;
    let k = input.custodian_threshold.unwrap_or(if n == 0 { 1 } else { n / 2 + 1 });
    if k < 1 || (n > 0 && k > n) {
        return Err(BandoError::invalid(
            "custodian_threshold_invalid",
            "custodian_threshold",
            format!("Soglia k-di-n non valida: k={k}, n={n}"),
        ));
    }
    let mut seen = HashSet::new();
    if !input.invitees.iter().all(|c| seen.insert(*c)) {
        return Err(BandoError::invalid(
            "invitees_duplicate",
            "invitees",
            "art. 50: un operatore è invitato più volte e va contato una volta sola",
        ));
    }
    if !input.invitees.is_empty() && !input.procedure_type.is_by_invitation() {
        return Err(BandoError::invalid(
            "invitees_not_allowed",
            "invitees",
            "Gli inviti riguardano solo l'affidamento diretto e la procedura negoziata senza bando",
        ));
    }
    let mut lotti = Vec::new();
    let mut cigs: HashSet<String> = cig.iter().map(|c| c.to_string()).collect();
    for (i, l) in input.lotti.iter().enumerate() {
        let field = format!("lotti[{i}]");
        if l.oggetto.trim().is_empty() {
            return Err(BandoError::invalid(
                "oggetto_required",
                &format!("{field}.oggetto"),
                "Ogni lotto ha un oggetto",
            ));
        }
        let lcig = id_err(&format!("{field}.cig"), Cig::parse(&l.cig))?;
        if !cigs.insert(lcig.to_string()) {
            return Err(BandoError::invalid(
                "cig_duplicate",
                &format!("{field}.cig"),
                "Ogni lotto ha un CIG diverso dagli altri e da quello del bando",
            ));
        }
        let base = amount(&format!("{field}.base_amount"), l.base_amount, false)?;
        let safety = amount(&format!("{field}.safety_costs"), l.safety_costs, true)?;
        if safety >= base {
            return Err(BandoError::invalid(
                "safety_costs_too_high",
                &format!("{field}.safety_costs"),
                "Gli oneri della sicurezza del lotto devono essere minori del suo importo",
            ));
        }
        lotti.push(LottoSpec {
            oggetto: l.oggetto.trim().to_string(),
            cig: lcig,
            base_amount: base,
            safety_costs: safety,
        });
    }
    if !lotti.is_empty() {
        let sum: Decimal = lotti.iter().map(|l| l.base_amount).sum();
        let safety: Decimal = lotti.iter().map(|l| l.safety_costs).sum();
        if sum != base_amount || safety != safety_costs {
            return Err(BandoError::invalid(
                "lots_amount_mismatch",
                "lotti",
                format!("art. 14 c.9: il valore del bando è la somma dei lotti ({sum} di cui oneri {safety}), non {base_amount} di cui {safety_costs}"),
            ));
        }
    }
    Ok(Spec {
        ente_id: input.ente_id,
        oggetto,
        cig,
        cup,
        cpv_main,
        cpv_additional,
        nuts,
        contract_type: input.contract_type,
        procedure_type: input.procedure_type,
        award_criterion: input.award_criterion,
        oepv: input.oepv.clone(),
        base_amount,
        safety_costs,
        labour_intensive: input.labour_intensive,
        intellectual_services: input.intellectual_services,
        framework_agreement: input.framework_agreement,
        dynamic_purchasing_system: input.dynamic_purchasing_system,
        urgency_reason: input
            .urgency_reason
            .as_deref()
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(str::to_string),
        questions_deadline,
        submission_deadline,
        opening_at,
        offer_validity_days,
        envelopes,
        anomaly_method: input.anomaly_method,
        anomaly_terms: input.anomaly_terms.clone().normalized(),
        custodians: input.custodians.clone(),
        custodian_threshold: k,
        invitees: input.invitees.clone(),
        lotti,
        conducted_by: input.conducted_by,
    })
}

fn eur(v: i64) -> String {
    let digits: Vec<char> = v.to_string().chars().collect();
    let groups: Vec<String> = digits.rchunks(3).rev().map(|c| c.iter().collect()).collect();
    format!("{} €", groups.join("."))
}

/// The minimum number of days for the submission deadline of this procedure, if the Code
/// sets one. Above the EU thresholds a competitive negotiation gets the Directive's 30 days
/// for requests (art. 29(1) of 2014/24/EU), longer than art. 73 c.4's ten (docs/legal.md).
pub fn minimum_days(t: &LegalTable, procedure: ProcedureType, urgent: bool, above_eu: bool) -> Option<Rule<i64>> {
    match (procedure, urgent) {
        (ProcedureType::CompetitivaConNegoziazione, false) if above_eu => Some(t.days.negotiation_requests_eu),
        (ProcedureType::Aperta, false) => Some(t.days.open_offers),
        (ProcedureType::Aperta, true) => Some(t.days.open_offers_urgent),
        (ProcedureType::Ristretta, false) => Some(t.days.restricted_requests),
        (ProcedureType::Ristretta, true) => Some(t.days.restricted_requests_urgent),
        (ProcedureType::CompetitivaConNegoziazione, false) => Some(t.days.negotiation_requests),
        (ProcedureType::CompetitivaConNegoziazione, true) => Some(t.days.restricted_requests_urgent),
        (ProcedureType::AffidamentoDiretto | ProcedureType::NegoziataSenzaBando, _) => None,
    }
}

/// How days are counted for this tender: Reg. 1182/71 at or above the EU thresholds, the
/// c.p.c./c.c. rule below them (docs/legal.md, "Time").
pub fn counting(above_eu: bool) -> Counting {
    if above_eu {
        Counting::Eu
    } else {
        Counting::National
    }
}

/// A deadline short of the minimum term `min` from `now`: the term's last day is `now`'s day
/// plus `min` days (the day of sending is not counted), carried on to the next working day
/// (EU) or the next day that is not a holiday (national) when it falls on one. A deadline on
/// that day, at any hour, satisfies the term.
fn minimum_term_violation(
    min: Rule<i64>,
    now: DateTime<Utc>,
    deadline: DateTime<Utc>,
    counting: Counting,
) -> Option<Violation> {
    let nominal = deadlines::earliest_day(now, min.value.max(0) as u64);
    let earliest = counting.period_end(nominal);
    if deadlines::rome_date(deadline) >= earliest {
        return None;
    }
    let days = calendar_days(now, deadline);
    let carried = counting
        .why_not_last(nominal)
        .map(|why| {
            format!(
                "; il {}° giorno, {}, è {why} e il termine scade il primo giorno {} ({})",
                min.value,
                nominal.format("%d/%m/%Y"),
                match counting {
                    Counting::Eu => "lavorativo successivo",
                    Counting::National => "seguente non festivo",
                },
                counting.article(),
            )
        })
        .unwrap_or_default();
    Some(Violation::new(
        "deadline_too_short",
        "submission_deadline",
        format!(
            "{}: il termine per le offerte deve essere di almeno {} giorni dalla trasmissione del bando{carried} (scadenza minima il {}), ne sono previsti {days}",
            min.article,
            min.value,
            earliest.format("%d/%m/%Y"),
        ),
    ))
}

/// Every legal rule this tender breaks if published at `now`.
pub fn legal_violations(s: &Facts, now: DateTime<Utc>) -> Vec<Violation> {
    let t = LegalTable::at(deadlines::rome_date(now));
    let kind = s.contract_type.legal();
    let mut v = Vec::new();
    let procedure_article = match s.procedure_type {
        ProcedureType::Aperta => "art. 71",
        ProcedureType::Ristretta => "art. 72",
        ProcedureType::CompetitivaConNegoziazione => "art. 73",
        ProcedureType::AffidamentoDiretto | ProcedureType::NegoziataSenzaBando => "art. 50",
    };

    // Deadlines and minimum time limits (arts. 71–73, 92).
    match s.submission_deadline {
        None => v.push(Violation::new(
            "deadline_required",
            "submission_deadline",
            format!("{procedure_article}: manca il termine per la presentazione delle offerte"),
        )),
        Some(deadline) if deadline <= now => v.push(Violation::new(
            "deadline_in_past",
            "submission_deadline",
            format!(
                "{procedure_article}: il termine per le offerte ({}) è già trascorso",
                deadlines::rome_rfc3339(deadline)
            ),
        )),
        Some(deadline) => {
            let above_eu = !t.is_below_eu_threshold(kind, s.authority, s.base_amount);
            if let Some(min) = minimum_days(t, s.procedure_type, s.urgency_reason.is_some(), above_eu) {
                if let Some(violation) = minimum_term_violation(min, now, deadline, counting(above_eu)) {
                    v.push(violation);
                }
            }
            match s.questions_deadline {
                None => v.push(Violation::new(
                    "questions_deadline_required",
                    "questions_deadline",
                    "art. 92 c.2: manca il termine per la richiesta di chiarimenti",
                )),
                Some(q) => {
                    let info = t.information_before_deadline(s.urgency_reason.is_some());
                    if calendar_days(q, deadline) < info.value {
                        v.push(Violation::new(
                            "questions_deadline_too_late",
                            "questions_deadline",
                            format!(
                                "{}: i chiarimenti vanno pubblicati almeno {} giorni prima della scadenza, quindi il termine per i quesiti deve precederla di almeno {} giorni",
                                info.article, info.value, info.value
                            ),
                        ));
                    }
                }
            }
            if s.opening_at.is_none() {
                v.push(Violation::new(
                    "opening_required",
                    "opening_at",
                    "art. 92 c.1: manca la data di apertura delle offerte",
                ));
            }
        }
    }

    // Bands of art. 50 and EU thresholds of art. 14.
    let amount = s.base_amount;
    let eu = t.eu_threshold(kind, s.authority);
    match s.procedure_type {
        ProcedureType::AffidamentoDiretto => {
            let limit = t.direct_award_limit(kind);
            if amount >= Decimal::from(limit.value) {
                v.push(Violation::new(
                    "direct_award_above_limit",
                    "base_amount",
                    format!(
                        "{}: l'affidamento diretto è ammesso sotto {} per {}; l'importo è {amount} €",
                        limit.article,
                        eur(limit.value),
                        kind_it(s.contract_type)
                    ),
                ));
            }
            if s.invitees.is_empty() {
                v.push(Violation::new(
                    "invitees_required",
                    "invitees",
                    format!("{}: indicare l'operatore economico affidatario", limit.article),
                ));
            }
        }
        ProcedureType::NegoziataSenzaBando => {
            if amount >= Decimal::from(eu.value) {
                v.push(Violation::new(
                    "negotiated_above_threshold",
                    "procedure_type",
                    format!("{} e art. 50 c.1: la procedura negoziata senza bando è ammessa sotto la soglia europea di {}; l'importo è {amount} €", eu.article, eur(eu.value)),
                ));
            } else if let Some(min) = t.min_invitees(kind, s.authority, amount) {
                if (s.invitees.len() as u32) < min.value {
                    v.push(Violation::new(
                        "too_few_invitees",
                        "invitees",
                        format!(
                            "{}: per questo importo vanno consultati almeno {} operatori, ne sono invitati {}",
                            min.article,
                            min.value,
                            s.invitees.len()
                        ),
                    ));
                }
            } else if s.invitees.is_empty() {
                v.push(Violation::new(
                    "invitees_required",
                    "invitees",
                    "art. 50 c.1: indicare gli operatori invitati",
                ));
            }
        }
        _ => {}
    }

    // Award criterion (art. 108).
    let competitive = s.procedure_type != ProcedureType::AffidamentoDiretto;
    let services = s.contract_type == ContractType::Services;
    if competitive && services && s.labour_intensive && s.award_criterion == AwardCriterion::MinorPrezzo {
        let r = t.award.oepv_mandatory_labour_intensive;
        v.push(Violation::new(
            "labour_intensive_lowest_price",
            "award_criterion",
            format!("{}: i servizi ad alta intensità di manodopera si aggiudicano solo con l'offerta economicamente più vantaggiosa, mai al minor prezzo", r.article),
        ));
    }
    if services && s.labour_intensive {
        if let Some(o) = &s.oepv {
            let cap = t.award.labour_intensive_max_economic_points;
            if o.economic_weight > Decimal::from(cap.value) {
                v.push(Violation::new(
                    "economic_weight_above_cap",
                    "oepv.economic_weight",
                    format!("{}: per i servizi ad alta intensità di manodopera il punteggio economico non può superare {} punti, ne sono previsti {}", cap.article, cap.value, o.economic_weight),
                ));
            }
        }
    }
    let eng = t.award.oepv_mandatory_engineering_from;
    if competitive
        && services
        && s.intellectual_services
        && s.award_criterion == AwardCriterion::MinorPrezzo
        && amount >= Decimal::from(eng.value)
    {
        v.push(Violation::new(
            "intellectual_services_lowest_price",
            "award_criterion",
            format!("{}: i servizi di ingegneria, architettura e gli altri servizi tecnici o intellettuali da {} in su si aggiudicano con l'OEPV", eng.article, eur(eng.value)),
        ));
    }

    // Envelopes (art. 91 for A and C; the technical offer for OEPV).
    if !s.envelopes.contains(&Envelope::A) {
        v.push(Violation::new(
            "envelope_a_required",
            "envelopes",
            "art. 91: la busta A (documentazione amministrativa, DGUE) è obbligatoria",
        ));
    }
    if !s.envelopes.contains(&Envelope::C) {
        v.push(Violation::new("envelope_c_required", "envelopes", "art. 91 e art. 108 c.9: la busta C (offerta economica, costi della manodopera e della sicurezza) è obbligatoria"));
    }
    if s.award_criterion == AwardCriterion::Oepv && !s.envelopes.contains(&Envelope::B) {
        v.push(Violation::new(
            "envelope_b_required",
            "envelopes",
            "art. 108 c.1: con l'OEPV serve la busta B (offerta tecnica)",
        ));
    }

    // Automatic exclusion of abnormal offers (art. 54).
    let r = t.award.anomaly_method_below_threshold;
    let applies = r.value
        && competitive
        && s.award_criterion == AwardCriterion::MinorPrezzo
        && matches!(s.contract_type, ContractType::Works | ContractType::Services)
        && t.is_below_eu_threshold(kind, s.authority, amount);
    // Method C's reference discount, cross-border interest, the art. 54 c.2 draw.
    v.extend(crate::anomaly_terms::violations(
        &s.anomaly_terms,
        s.anomaly_method,
        applies,
        r.article,
    ));

    v.extend(qualification_violations(t, s, deadlines::rome_date(now)));

    // The seal: offers stay unreadable until opening (art. 35 c.2, access deferred).
    if s.custodians.is_empty() {
        v.push(Violation::new(
            "custodians_required",
            "custodians",
            "art. 35 c.2: le offerte restano riservate fino all'apertura; indicare i custodi delle chiavi del sigillo (k di n)",
        ));
    }
    v
}

/// Arts. 62-63, Allegato II.4: the authority that runs the tender holds, on the publication
/// day, a qualification for the contract's sector at or above the level its value needs, is
/// qualified by law (art. 63 c.4), or the value is within what art. 62 c.1 lets anyone run.
fn qualification_violations(t: &LegalTable, s: &Facts, day: chrono::NaiveDate) -> Vec<Violation> {
    let kind = s.contract_type.legal();
    let profile = match &s.runner {
        Runner::Unchecked => return Vec::new(),
        // Whatever the value: a tender entrusted to a centrale that does not exist has nobody
        // to run it.
        Runner::CentraleMissing => {
            return vec![Violation::new(
                "centrale_not_registered",
                "conducted_by",
                "art. 62 c.6 lett. a: il bando è affidato alla centrale di committenza, ma nessun ente è registrato come centrale sulla piattaforma",
            )]
        }
        Runner::Known(p) => p,
    };
    let QualificationNeed::Level { level, article } = t.qualification_need(kind, s.base_amount) else {
        return Vec::new();
    };
    if profile.qualified_by_law {
        return Vec::new();
    }
    let sector = QualificationSector::of(kind);
    let amount = s.base_amount;
    let q = &t.qualification;
    let alone = match sector {
        QualificationSector::Works => format!("lavori fino a {}", eur(q.unqualified_works_up_to.value)),
        QualificationSector::ServicesSupplies => {
            format!(
                "servizi e forniture sotto {}",
                eur(q.unqualified_services_supplies_below.value)
            )
        }
    };
    let via_centrale = if s.conducted_by == ConductedBy::Ente && !profile.centrale {
        "; il bando può essere affidato alla centrale di committenza qualificata (art. 62 c.6 lett. a)"
    } else {
        ""
    };
    let record = profile.qualification(sector);
    match record.and_then(|r| r.level_on(day)) {
        Some(held) if held >= level => Vec::new(),
        Some(held) => vec![Violation::new(
            "qualification_insufficient",
            "base_amount",
            format!(
                "{article} e Allegato II.4: per {} di {amount} € serve almeno la qualificazione {}; {} ha la qualificazione {}, valida per il proprio livello e quelli inferiori (art. 63 c.3){via_centrale}",
                sector.label(),
                level.label(),
                profile.nome,
                held.label()
            ),
        )],
        None => match record.and_then(|r| r.level.zip(r.valid_until)) {
            Some((held, until)) => vec![Violation::new(
                "qualification_expired",
                "base_amount",
                format!(
                    "{article} e Allegato II.4: la qualificazione {} di {} per {} è scaduta il {}; senza qualificazione si procede da soli solo per {alone} (art. 62 c.1){via_centrale}",
                    held.label(),
                    profile.nome,
                    sector.label(),
                    until.format("%d/%m/%Y")
                ),
            )],
            None => vec![Violation::new(
                "authority_not_qualified",
                "base_amount",
                format!(
                    "{} e c.2: {} non è qualificata per {}; senza qualificazione si procede da soli solo per {alone}, per {amount} € serve almeno la qualificazione {} ({article}){via_centrale}",
                    q.unqualified_works_up_to.article,
                    profile.nome,
                    sector.label(),
                    level.label()
                ),
            )],
        },
    }
}

fn kind_it(k: ContractType) -> &'static str {
    match k {
        ContractType::Works => "i lavori",
        ContractType::Services => "i servizi",
        ContractType::Supplies => "le forniture",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rust_decimal_macros::dec;

    fn now() -> DateTime<Utc> {
        deadlines::parse_rome("2026-05-04T10:00").expect("valid")
    }

    fn open_services() -> NewBando {
        NewBando {
            ente_id: Uuid::new_v4(),
            oggetto: "Servizio di pulizia".into(),
            cig: Some("915282916F".into()),
            cup: None,
            cpv_main: "90910000-9".into(),
            cpv_additional: vec![],
            nuts: "ITC4C".into(),
            contract_type: ContractType::Services,
            procedure_type: ProcedureType::Aperta,
            award_criterion: AwardCriterion::MinorPrezzo,
            oepv: None,
            base_amount: dec!(300000),
            safety_costs: dec!(3000),
            labour_intensive: false,
            intellectual_services: false,
            framework_agreement: false,
            dynamic_purchasing_system: false,
            urgency_reason: None,
            questions_deadline: Some("2026-05-25T12:00".into()),
            submission_deadline: Some("2026-06-05T12:00".into()),
            opening_at: Some("2026-06-05T15:00".into()),
            offer_validity_days: None,
            envelopes: vec![Envelope::A, Envelope::C],
            anomaly_method: None,
            anomaly_terms: Default::default(),
            custodians: vec![Uuid::new_v4()],
            custodian_threshold: None,
            invitees: vec![],
            lotti: vec![],
            conducted_by: ConductedBy::Ente,
        }
    }

    fn codes(b: &NewBando) -> Vec<&'static str> {
        let spec = validate(b, 180).expect("valid shape");
        legal_violations(&spec.facts(), now())
            .into_iter()
            .map(|v| v.code)
            .collect()
    }

    #[test]
    fn a_correct_open_procedure_has_no_violations() {
        assert_eq!(codes(&open_services()), Vec::<&str>::new());
        assert_eq!(
            validate(&open_services(), 180).map(|s| s.offer_validity_days).ok(),
            Some(180)
        );
    }

    #[test]
    fn thirty_days_counted_on_the_calendar() {
        let mut b = open_services();
        b.questions_deadline = Some("2026-05-20T12:00".into());
        b.submission_deadline = Some("2026-06-03T09:00".into()); // 4 May + 30 days
        b.opening_at = Some("2026-06-03T10:00".into());
        assert_eq!(codes(&b), Vec::<&str>::new());
        b.submission_deadline = Some("2026-06-02T23:59".into());
        assert_eq!(codes(&b), vec!["deadline_too_short"]);
        b.urgency_reason = Some("Scadenza del contratto in essere".into());
        assert_eq!(codes(&b), Vec::<&str>::new());
    }

    fn profile(level: Option<(domain::legal::QualificationLevel, &str)>) -> AuthorityProfile {
        AuthorityProfile {
            id: Uuid::new_v4(),
            nome: "Comune di Prova".into(),
            kind: AuthorityKind::SubCentral,
            qualified_by_law: false,
            qualified_by_law_basis: None,
            centrale: false,
            qualifications: level
                .map(|(l, until)| accounts::qualification::Qualification {
                    id: Uuid::new_v4(),
                    sector: QualificationSector::ServicesSupplies,
                    level: Some(l),
                    valid_until: chrono::NaiveDate::parse_from_str(until, "%Y-%m-%d").ok(),
                    anac_reference: None,
                    recorded_at: now(),
                    recorded_by: None,
                })
                .into_iter()
                .collect(),
        }
    }

    fn qualification_codes(amount: Decimal, runner: Runner) -> Vec<&'static str> {
        let mut b = open_services();
        b.base_amount = amount;
        b.safety_costs = Decimal::ZERO;
        let mut facts = validate(&b, 180).expect("valid shape").facts();
        facts.runner = runner;
        let t = LegalTable::at(deadlines::rome_date(now()));
        qualification_violations(t, &facts, deadlines::rome_date(now()))
            .into_iter()
            .map(|v| v.code)
            .collect()
    }

    #[test]
    fn the_running_authority_needs_the_level_of_the_value() {
        use domain::legal::QualificationLevel::*;
        let known = |l| Runner::Known(profile(l));
        assert!(
            qualification_codes(dec!(139_999), known(None)).is_empty(),
            "art. 62 c.1"
        );
        assert_eq!(
            qualification_codes(dec!(140_000), known(None)),
            ["authority_not_qualified"]
        );
        assert!(qualification_codes(dec!(750_000), known(Some((Base, "2026-05-04")))).is_empty());
        assert_eq!(
            qualification_codes(dec!(750_001), known(Some((Base, "2027-01-01")))),
            ["qualification_insufficient"]
        );
        assert_eq!(
            qualification_codes(dec!(300_000), known(Some((Avanzata, "2026-05-03")))),
            ["qualification_expired"]
        );
        let mut by_law = profile(None);
        by_law.qualified_by_law = true;
        assert!(qualification_codes(dec!(9_000_000), Runner::Known(by_law)).is_empty());
        // Entrusted to a centrale that is not registered: refused whatever the value.
        assert_eq!(
            qualification_codes(dec!(1_000), Runner::CentraleMissing),
            ["centrale_not_registered"]
        );
    }

    #[test]
    fn a_minimum_term_ending_on_a_holiday_or_an_eu_saturday_runs_on() {
        let at = |s: &str| deadlines::parse_rome(s).expect("valid");
        let spec = validate(&open_services(), 180).expect("shape");
        let mut f = spec.facts();
        let codes =
            |f: &Facts, now| -> Vec<&'static str> { legal_violations(f, now).into_iter().map(|v| v.code).collect() };
        // Sent on 8 November 2026: the 30th day is 8 December (Immacolata).
        let sent = at("2026-11-08T10:00");
        f.questions_deadline = Some(at("2026-11-25T12:00"));
        f.submission_deadline = Some(at("2026-12-08T12:00"));
        let v = legal_violations(&f, sent);
        assert_eq!(v.iter().map(|v| v.code).collect::<Vec<_>>(), vec!["deadline_too_short"]);
        assert!(v[0].message.contains("09/12/2026"), "{}", v[0].message);
        assert!(v[0].message.contains("Immacolata"), "{}", v[0].message);
        assert!(v[0].message.contains("1182/71"), "EU tender: {}", v[0].message);
        f.submission_deadline = Some(at("2026-12-09T09:00"));
        assert_eq!(codes(&f, sent), Vec::<&str>::new());
        // Sent on 7 May 2026: the 30th day is Saturday 6 June. Above the threshold: Monday.
        let sent = at("2026-05-07T10:00");
        f.submission_deadline = Some(at("2026-06-06T12:00"));
        f.questions_deadline = Some(at("2026-05-25T12:00"));
        assert_eq!(codes(&f, sent), vec!["deadline_too_short"]);
        // Below the threshold Saturday is not a holiday: the same day is enough.
        f.base_amount = dec!(200000);
        f.anomaly_method = Some(AnomalyMethod::A);
        assert_eq!(codes(&f, sent), Vec::<&str>::new());
        // A Sunday is a holiday for both.
        let sent = at("2026-05-08T10:00");
        f.submission_deadline = Some(at("2026-06-07T12:00"));
        let v = legal_violations(&f, sent);
        assert_eq!(v.iter().map(|v| v.code).collect::<Vec<_>>(), vec!["deadline_too_short"]);
        assert!(v[0].message.contains("art. 155 c.4 c.p.c."), "{}", v[0].message);
        f.submission_deadline = Some(at("2026-06-08T09:00"));
        assert_eq!(codes(&f, sent), Vec::<&str>::new());
    }

    #[test]
    fn the_violation_cites_the_article() {
        let mut b = open_services();
        b.questions_deadline = Some("2026-05-10T12:00".into());
        b.submission_deadline = Some("2026-05-24T12:00".into());
        let spec = validate(&b, 180).expect("shape");
        let v = legal_violations(&spec.facts(), now());
        assert_eq!(v.len(), 1);
        assert!(v[0].message.starts_with("art. 71 c.2"), "{}", v[0].message);
        assert!(v[0].message.contains("03/06/2026"), "{}", v[0].message);
    }

    #[test]
    fn bands_caps_and_criteria() {
        let mut b = open_services();
        b.procedure_type = ProcedureType::AffidamentoDiretto;
        b.invitees = vec![Uuid::new_v4()];
        b.base_amount = dec!(140000);
        assert_eq!(codes(&b), vec!["direct_award_above_limit"]);
        b.base_amount = dec!(139999.99);
        assert_eq!(codes(&b), Vec::<&str>::new());

        let mut n = open_services();
        n.procedure_type = ProcedureType::NegoziataSenzaBando;
        n.invitees = (0..4).map(|_| Uuid::new_v4()).collect();
        n.base_amount = dec!(180000);
        n.anomaly_method = Some(AnomalyMethod::A);
        assert_eq!(codes(&n), vec!["too_few_invitees"]);
        n.invitees.push(Uuid::new_v4());
        assert_eq!(codes(&n), Vec::<&str>::new());
        n.base_amount = dec!(216000);
        n.anomaly_method = None;
        assert_eq!(codes(&n), vec!["negotiated_above_threshold"]);

        let mut l = open_services();
        l.labour_intensive = true;
        assert_eq!(codes(&l), vec!["labour_intensive_lowest_price"]);
        l.award_criterion = AwardCriterion::Oepv;
        l.envelopes = vec![Envelope::A, Envelope::B, Envelope::C];
        l.oepv = Some(Oepv {
            criteria: vec![Criterion {
                code: "T1".into(),
                description: "Organizzazione".into(),
                weight: dec!(60),
                kind: CriterionKind::Discretionary,
                quantitative: None,
                table: vec![],
                sub_criteria: vec![],
            }],
            economic_weight: dec!(40),
            economic_formula: EconomicFormula {
                kind: FormulaKind::Inverse,
                alpha: None,
                x: None,
            },
            technical_threshold: None,
            reparametrization: true,
            reparametrize_total: false,
        });
        assert_eq!(codes(&l), vec!["economic_weight_above_cap"]);
        if let Some(o) = l.oepv.as_mut() {
            o.economic_weight = dec!(30);
            o.criteria[0].weight = dec!(70);
        }
        assert_eq!(codes(&l), Vec::<&str>::new());
    }

    #[test]
    fn quantitative_and_tabular_rules_are_checked() {
        let crit = |v: serde_json::Value| -> Criterion { serde_json::from_value(v).expect("criterion") };
        let code = |c: Criterion| check_criteria(&[c], "oepv.criteria").err().map(|e| e.code());
        assert_eq!(
            crit(serde_json::json!({ "code": "T", "description": "d", "weight": 10 })).kind,
            CriterionKind::Discretionary
        );
        assert_eq!(
            code(crit(
                serde_json::json!({ "code": "T", "description": "d", "weight": 10, "kind": "quantitative",
            "quantitative": { "better": "lower", "min": "0", "max": "40" } })
            )),
            None
        );
        assert_eq!(
            code(crit(
                serde_json::json!({ "code": "T", "description": "d", "weight": 10, "kind": "quantitative",
            "quantitative": { "better": "higher", "min": "5", "max": "5" } })
            )),
            Some("oepv_quantitative_range")
        );
        assert_eq!(
            code(crit(serde_json::json!({ "code": "T", "description": "d", "weight": 10,
            "quantitative": { "better": "higher", "min": "0", "max": "5" } }))),
            Some("oepv_criterion_rule")
        );
        assert_eq!(
            code(crit(
                serde_json::json!({ "code": "T", "description": "d", "weight": 10, "kind": "tabular",
            "table": [ { "from": "0", "to": "10", "coefficient": "0.5" }, { "from": "10", "coefficient": "1" } ] })
            )),
            None
        );
        assert_eq!(
            code(crit(
                serde_json::json!({ "code": "T", "description": "d", "weight": 10, "kind": "tabular",
            "table": [ { "from": "0", "to": "10", "coefficient": "0.5" }, { "from": "9", "coefficient": "1" } ] })
            )),
            Some("oepv_table_overlap")
        );
        assert_eq!(
            code(crit(
                serde_json::json!({ "code": "T", "description": "d", "weight": 10, "kind": "tabular",
            "table": [ { "option": "ISO 14001", "coefficient": "1.5" } ] })
            )),
            Some("oepv_table_coefficient")
        );
        assert_eq!(
            code(crit(
                serde_json::json!({ "code": "T", "description": "d", "weight": 10, "kind": "tabular",
            "table": [ { "option": "ISO 14001", "from": "1", "coefficient": "1" } ] })
            )),
            Some("oepv_table_row")
        );
    }

    #[test]
    fn shape_errors_name_their_field() {
        let mut b = open_services();
        b.cig = Some("915282916E".into());
        assert_eq!(
            validate(&b, 180)
                .err()
                .map(|e| (e.code(), e.field().map(str::to_string))),
            Some(("cig_check", Some("cig".into())))
        );
        let mut b = open_services();
        b.submission_deadline = Some("2026-03-29T02:30".into());
        assert_eq!(
            validate(&b, 180).err().map(|e| e.code()),
            Some("datetime_nonexistent_in_rome")
        );
        let mut b = open_services();
        b.cig = None;
        b.lotti = vec![NewLotto {
            oggetto: "Lotto 1".into(),
            cig: "915282916F".into(),
            base_amount: dec!(100000),
            safety_costs: dec!(0),
        }];
        assert_eq!(validate(&b, 180).err().map(|e| e.code()), Some("lots_amount_mismatch"));
    }
}
