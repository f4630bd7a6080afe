//! The draft's guided form: what the RUP types, kept as text between reposts (searching a CPV
//! or a NUTS code, choosing one, adding rows, changing the ente all post the whole form back
//! and show it again, so nothing needs JavaScript), and turned into the bando crate's
//! [`NewBando`] only when saving. The rules stay the domain's: this module only reads numbers,
//! dates and choices; what they must be is `bando::rules::validate` and the legal checks.

use std::collections::BTreeMap;
use std::str::FromStr;

use bando::model::{
    AnomalyMethod, AwardCriterion, Bando, Better, ConductedBy, ContractType, Criterion, CriterionKind, EconomicFormula,
    Envelope, FormulaKind, NewBando, NewLotto, Oepv, ProcedureType, QuantitativeRule, TableRow,
};
use bando::AnomalyTerms;
use domain::ids::{comuni, Cpv};
use rust_decimal::Decimal;
use uuid::Uuid;

use crate::forms::FieldErrors;

/// Empty rows shown after the filled ones, and how many "add rows" adds.
const SPARE_ROWS: usize = 2;
const MORE_ROWS: usize = 3;
/// Search results shown at most (a common word matches thousands of CPV codes).
const MAX_RESULTS: usize = 30;
/// Levels of sub-criteria read from a post: more than any scheme has, few enough that a
/// forged form cannot nest without end.
const MAX_DEPTH: usize = 4;

#[derive(Debug, Clone, Default)]
pub struct LotRow {
    pub oggetto: String,
    pub cig: String,
    pub base_amount: String,
    pub safety_costs: String,
}

impl LotRow {
    fn is_blank(&self) -> bool {
        [&self.oggetto, &self.cig, &self.base_amount, &self.safety_costs]
            .iter()
            .all(|s| s.trim().is_empty())
    }
}

/// One row of a tabular criterion: an option (exact text) or a range, and its coefficient.
#[derive(Debug, Clone, Default)]
pub struct TableRowForm {
    pub option: String,
    pub from: String,
    pub to: String,
    pub coefficient: String,
}

impl TableRowForm {
    fn is_blank(&self) -> bool {
        [&self.option, &self.from, &self.to, &self.coefficient]
            .iter()
            .all(|s| s.trim().is_empty())
    }
}

/// A technical criterion as typed: its kind, the fields that kind needs (a quantitative
/// criterion's range, a tabular one's rows) and its sub-criteria. The form's buttons add one
/// level of sub-criteria; deeper ones (a draft made through the API) are shown and kept.
#[derive(Debug, Clone, Default)]
pub struct CritRow {
    pub code: String,
    pub description: String,
    pub weight: String,
    /// `discretionary`, `quantitative`, `tabular` (blank reads as discretionary, as the API).
    pub kind: String,
    pub better: String,
    pub min: String,
    pub max: String,
    pub table: Vec<TableRowForm>,
    pub subs: Vec<CritRow>,
}

impl CritRow {
    fn is_blank(&self) -> bool {
        [&self.code, &self.description, &self.weight, &self.min, &self.max]
            .iter()
            .all(|s| s.trim().is_empty())
            && self.table.iter().all(TableRowForm::is_blank)
            && self.subs.iter().all(CritRow::is_blank)
    }

    pub fn kind(&self) -> CriterionKind {
        CriterionKind::parse(self.kind.trim()).unwrap_or_default()
    }

    fn of(c: &Criterion) -> Self {
        let q = c.quantitative.as_ref();
        let text = |d: Option<Decimal>| d.map(|d| d.to_string()).unwrap_or_default();
        CritRow {
            code: c.code.clone(),
            description: c.description.clone(),
            weight: c.weight.to_string(),
            kind: c.kind.as_str().into(),
            better: q.map(|q| q.better.as_str().to_string()).unwrap_or_default(),
            min: text(q.map(|q| q.min)),
            max: text(q.map(|q| q.max)),
            table: c
                .table
                .iter()
                .map(|r| TableRowForm {
                    option: r.option.clone().unwrap_or_default(),
                    from: text(r.from),
                    to: text(r.to),
                    coefficient: r.coefficient.to_string(),
                })
                .collect(),
            subs: c.sub_criteria.iter().map(CritRow::of).collect(),
        }
    }

    /// Blank table rows and sub-criteria out, so that the domain's indices are the form's.
    fn compact(&mut self) {
        self.table.retain(|r| !r.is_blank());
        self.subs.retain(|s| !s.is_blank());
        for s in &mut self.subs {
            s.compact();
        }
    }

    fn pad(&mut self) {
        if self.kind() == CriterionKind::Tabular {
            let filled = self.table.iter().filter(|r| !r.is_blank()).count();
            while self.table.len() < (filled + 1).max(SPARE_ROWS) {
                self.table.push(TableRowForm::default());
            }
        }
        let filled = self.subs.iter().filter(|s| !s.is_blank()).count();
        if filled > 0 {
            while self.subs.len() < filled + 1 {
                self.subs.push(CritRow::default());
            }
        }
        for s in &mut self.subs {
            s.pad();
        }
    }

    /// One field posted under this criterion: `code`, `quantitative.min`, `table[2].option`,
    /// `sub_criteria[1].weight`... (the domain's own paths, so its errors find their field).
    fn set(raw: &mut RawCrit, field: &str, v: String, depth: usize) {
        let row = &mut raw.row;
        match field {
            "code" => row.code = v,
            "description" => row.description = v,
            "weight" => row.weight = v,
            "kind" => row.kind = v,
            "quantitative.better" => row.better = v,
            "quantitative.min" => row.min = v,
            "quantitative.max" => row.max = v,
            _ => {
                if let Some((n, f)) = row_index(field, "table") {
                    let r = raw.table.entry(n).or_default();
                    match f.as_str() {
                        "option" => r.option = v,
                        "from" => r.from = v,
                        "to" => r.to = v,
                        "coefficient" => r.coefficient = v,
                        _ => {}
                    }
                } else if let Some((n, f)) = row_index(field, "sub_criteria").filter(|_| depth < MAX_DEPTH) {
                    CritRow::set(raw.subs.entry(n).or_default(), &f, v, depth + 1);
                }
            }
        }
    }

    fn to_criterion(&self, path: &str, e: &mut Errs) -> Criterion {
        let weight = e
            .money(&format!("{path}.weight"), &self.weight, true)
            .unwrap_or_default();
        let kind = match self.kind.trim() {
            "" => CriterionKind::Discretionary,
            k => CriterionKind::parse(k).unwrap_or_else(|| {
                e.bad(&format!("{path}.kind"), "Tipo di criterio sconosciuto");
                CriterionKind::Discretionary
            }),
        };
        let sub_criteria: Vec<Criterion> = self
            .subs
            .iter()
            .enumerate()
            .filter(|(_, s)| !s.is_blank())
            .map(|(j, s)| s.to_criterion(&format!("{path}.sub_criteria[{j}]"), e))
            .collect();
        // A criterion that groups sub-criteria needs no rule of its own (the domain refuses
        // one); a leaf of either measurable kind without it could never be scored.
        let leaf = sub_criteria.is_empty();
        let quantitative = if kind == CriterionKind::Quantitative {
            let better = match self.better.trim() {
                "" if !leaf => None,
                b => Better::parse(b).or_else(|| {
                    e.bad(
                        &format!("{path}.quantitative.better"),
                        "Indicare se è migliore il valore più alto o quello più basso",
                    );
                    None
                }),
            };
            let min = e.decimal(&format!("{path}.quantitative.min"), &self.min, leaf, "0");
            let max = e.decimal(&format!("{path}.quantitative.max"), &self.max, leaf, "100");
            match (better, min, max) {
                (Some(better), Some(min), Some(max)) => Some(QuantitativeRule { better, min, max }),
                _ => None,
            }
        } else {
            None
        };
        let mut table = Vec::new();
        if kind == CriterionKind::Tabular {
            for (r, row) in self.table.iter().enumerate().filter(|(_, r)| !r.is_blank()) {
                let rf = format!("{path}.table[{r}]");
                let option = Some(row.option.trim().to_string()).filter(|o| !o.is_empty());
                let from = e.decimal(&format!("{rf}.from"), &row.from, false, "10");
                let to = e.decimal(&format!("{rf}.to"), &row.to, false, "20");
                let coefficient = e
                    .decimal(&format!("{rf}.coefficient"), &row.coefficient, true, "0,5")
                    .unwrap_or_default();
                table.push(TableRow {
                    option,
                    from,
                    to,
                    coefficient,
                });
            }
            if leaf && table.is_empty() {
                e.bad(
                    &format!("{path}.table"),
                    "Un criterio tabellare ha almeno una riga: un'opzione o un intervallo, con il suo coefficiente",
                );
            }
        }
        Criterion {
            code: self.code.trim().to_string(),
            description: self.description.trim().to_string(),
            weight,
            kind,
            quantitative,
            table,
            sub_criteria,
        }
    }
}

/// A criterion while the form is read: its rows by index as posted.
#[derive(Default)]
struct RawCrit {
    row: CritRow,
    table: BTreeMap<usize, TableRowForm>,
    subs: BTreeMap<usize, RawCrit>,
}

impl RawCrit {
    /// Rows in the order of their indices; gaps (a forged index) collapse rather than
    /// become thousands of empty rows.
    fn done(self) -> CritRow {
        let mut row = self.row;
        row.table = self.table.into_values().collect();
        row.subs = self.subs.into_values().map(RawCrit::done).collect();
        row
    }
}

/// What a row button of the criteria acts on: a criterion, one of its sub-criteria, or a row
/// of either's table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CritPath {
    pub crit: usize,
    pub sub: Option<usize>,
    pub row: Option<usize>,
}

impl CritPath {
    pub fn parse(s: &str) -> Option<Self> {
        let (crit, rest) = row_index(&format!("{s}.x"), "oepv.criteria")?;
        let (sub, rest) = match row_index(&rest, "sub_criteria") {
            Some((j, r)) => (Some(j), r),
            None => (None, rest),
        };
        let row = match row_index(&rest, "table") {
            Some((r, tail)) if tail == "x" => Some(r),
            Some(_) => return None,
            None if rest == "x" => None,
            None => return None,
        };
        Some(CritPath { crit, sub, row })
    }
}

/// The form as typed (every value a string, as the browser sends it).
#[derive(Debug, Clone, Default)]
pub struct Draft {
    pub ente: String,
    pub oggetto: String,
    pub cig: String,
    pub cup: String,
    pub cpv_main: String,
    pub cpv_additional: String,
    pub nuts: String,
    pub contract_type: String,
    pub procedure_type: String,
    pub award_criterion: String,
    pub conducted_by: String,
    pub base_amount: String,
    pub safety_costs: String,
    pub labour_intensive: bool,
    pub intellectual_services: bool,
    pub framework_agreement: bool,
    pub dynamic_purchasing_system: bool,
    pub urgency_reason: String,
    pub questions_deadline: String,
    pub submission_deadline: String,
    pub opening_at: String,
    pub offer_validity_days: String,
    pub envelopes: Vec<String>,
    pub anomaly_method: String,
    pub reference_discount: String,
    pub tabella_a: bool,
    pub reference_motivation: String,
    pub cross_border: bool,
    pub draw_methods: Vec<String>,
    pub offer_decimals: String,
    pub custodians: Vec<String>,
    pub custodian_threshold: String,
    /// Supplier accounts invited (art. 50), chosen with the albo picker.
    pub invitees: Vec<String>,
    pub invitees_q: String,
    pub lots: Vec<LotRow>,
    pub criteria: Vec<CritRow>,
    pub economic_weight: String,
    pub formula: String,
    pub alpha: String,
    pub x: String,
    pub technical_threshold: String,
    pub reparametrization: bool,
    pub reparametrize_total: bool,
    pub cpv_q: String,
    pub nuts_q: String,
}

/// What the button pressed asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Act {
    Save,
    SearchCpv,
    SearchNuts,
    AddLots,
    AddCriteria,
    /// Show the fields of the kinds chosen.
    Refresh,
    /// More rows for a criterion's table, more sub-criteria under a criterion.
    AddTableRows(CritPath),
    AddSubCriteria(CritPath),
    /// A criterion, a sub-criterion or a table row out.
    Remove(CritPath),
    /// Search the albo for invitees; an invitee out (an invitee in is a `Choose`).
    SearchInvitees,
    RemoveInvitee(String),
    /// The ente changed: show its officials as custodians.
    ChangeEnte,
    /// A search result chosen: `cpv_main`, `cpv_add` or `nuts`, and the code.
    Choose(String, String),
}

fn row_index(key: &str, prefix: &str) -> Option<(usize, String)> {
    let rest = key.strip_prefix(prefix)?.strip_prefix('[')?;
    let (n, field) = rest.split_once("].")?;
    let n: usize = n.parse().ok()?;
    // A forged index must not make the page allocate millions of rows.
    (n < 100).then(|| (n, field.to_string()))
}

impl Draft {
    /// A new draft: the usual envelopes, the ente the RUP works for.
    pub fn blank(ente: Option<Uuid>) -> Self {
        Draft {
            ente: ente.map(|e| e.to_string()).unwrap_or_default(),
            contract_type: "works".into(),
            procedure_type: "aperta".into(),
            award_criterion: "minor_prezzo".into(),
            conducted_by: "ente".into(),
            envelopes: vec!["A".into(), "C".into()],
            formula: "linear".into(),
            lots: vec![LotRow::default(); SPARE_ROWS],
            criteria: vec![CritRow::default(); MORE_ROWS],
            ..Default::default()
        }
    }

    /// The form posted back, and the button pressed.
    pub fn from_pairs(pairs: &[(String, String)]) -> (Self, Act) {
        let mut d = Draft::default();
        let mut act = Act::Save;
        let mut lots: BTreeMap<usize, LotRow> = BTreeMap::new();
        let mut crits: BTreeMap<usize, RawCrit> = BTreeMap::new();
        for (k, v) in pairs {
            let v = v.clone();
            if let Some((n, f)) = row_index(k, "lotti") {
                let row = lots.entry(n).or_default();
                match f.as_str() {
                    "oggetto" => row.oggetto = v,
                    "cig" => row.cig = v,
                    "base_amount" => row.base_amount = v,
                    "safety_costs" => row.safety_costs = v,
                    _ => {}
                }
                continue;
            }
            if let Some((n, f)) = row_index(k, "oepv.criteria") {
                CritRow::set(crits.entry(n).or_default(), &f, v, 0);
                continue;
            }
            match k.as_str() {
                "ente_id" => d.ente = v,
                "oggetto" => d.oggetto = v,
                "cig" => d.cig = v,
                "cup" => d.cup = v,
                "cpv_main" => d.cpv_main = v,
                "cpv_additional" => d.cpv_additional = v,
                "nuts" => d.nuts = v,
                "contract_type" => d.contract_type = v,
                "procedure_type" => d.procedure_type = v,
                "award_criterion" => d.award_criterion = v,
                "conducted_by" => d.conducted_by = v,
                "base_amount" => d.base_amount = v,
                "safety_costs" => d.safety_costs = v,
                "labour_intensive" => d.labour_intensive = true,
                "intellectual_services" => d.intellectual_services = true,
                "framework_agreement" => d.framework_agreement = true,
                "dynamic_purchasing_system" => d.dynamic_purchasing_system = true,
                "urgency_reason" => d.urgency_reason = v,
                "questions_deadline" => d.questions_deadline = v,
                "submission_deadline" => d.submission_deadline = v,
                "opening_at" => d.opening_at = v,
                "offer_validity_days" => d.offer_validity_days = v,
                "envelopes" => d.envelopes.push(v),
                "anomaly_method" => d.anomaly_method = v,
                "anomaly_terms.reference_discount" => d.reference_discount = v,
                "anomaly_terms.reference_discount_tabella_a" => d.tabella_a = true,
                "anomaly_terms.reference_discount_motivation" => d.reference_motivation = v,
                "anomaly_terms.cross_border_interest" => d.cross_border = true,
                "anomaly_terms.draw_methods" => d.draw_methods.push(v),
                "anomaly_terms.offer_decimals" => d.offer_decimals = v,
                "custodians" => d.custodians.push(v),
                "custodian_threshold" => d.custodian_threshold = v,
                "invitees" if !v.trim().is_empty() && !d.invitees.contains(&v) => d.invitees.push(v),
                "invitees_q" => d.invitees_q = v,
                "oepv.economic_weight" => d.economic_weight = v,
                "oepv.economic_formula.kind" => d.formula = v,
                "oepv.economic_formula.alpha" => d.alpha = v,
                "oepv.economic_formula.x" => d.x = v,
                "oepv.technical_threshold" => d.technical_threshold = v,
                "oepv.reparametrization" => d.reparametrization = true,
                "oepv.reparametrize_total" => d.reparametrize_total = true,
                "cpv_q" => d.cpv_q = v,
                "nuts_q" => d.nuts_q = v,
                "azione" => {
                    act = match v.as_str() {
                        "cerca_cpv" => Act::SearchCpv,
                        "cerca_nuts" => Act::SearchNuts,
                        "righe_lotti" => Act::AddLots,
                        "righe_criteri" => Act::AddCriteria,
                        "ente" => Act::ChangeEnte,
                        "tipo" => Act::Refresh,
                        "cerca_invitati" => Act::SearchInvitees,
                        other => match other.split_once('|') {
                            Some(("righe_tabella", p)) => CritPath::parse(p).map_or(Act::Refresh, Act::AddTableRows),
                            Some(("sub_criteri", p)) => CritPath::parse(p).map_or(Act::Refresh, Act::AddSubCriteria),
                            Some(("rimuovi", p)) => CritPath::parse(p).map_or(Act::Refresh, Act::Remove),
                            Some(("rimuovi_invitato", id)) => Act::RemoveInvitee(id.to_string()),
                            _ => Act::Save,
                        },
                    }
                }
                "scegli" => {
                    if let Some((target, code)) = v.split_once('|') {
                        act = Act::Choose(target.to_string(), code.to_string());
                    }
                }
                _ => {}
            }
        }
        let rows_of = |n: usize| n.max(SPARE_ROWS);
        let lot_count = rows_of(lots.keys().next_back().map_or(0, |n| n + 1));
        d.lots = (0..lot_count).map(|i| lots.remove(&i).unwrap_or_default()).collect();
        let crit_count = crits.keys().next_back().map_or(0, |n| n + 1).max(MORE_ROWS);
        d.criteria = (0..crit_count)
            .map(|i| crits.remove(&i).map(RawCrit::done).unwrap_or_default())
            .collect();
        (d, act)
    }

    /// The draft as stored, to edit it.
    pub fn of(b: &Bando) -> Self {
        let wall = |d: &Option<bando::model::Deadline>| {
            d.as_ref()
                .map(|d| d.rome.chars().take(16).collect::<String>())
                .unwrap_or_default()
        };
        let mut d = Draft {
            ente: b.ente_id.to_string(),
            oggetto: b.oggetto.clone(),
            cig: b.cig.clone().unwrap_or_default(),
            cup: b.cup.clone().unwrap_or_default(),
            cpv_main: b.cpv_main.clone(),
            cpv_additional: b.cpv_additional.join(", "),
            nuts: b.nuts.clone(),
            contract_type: b.contract_type.as_str().into(),
            procedure_type: b.procedure_type.as_str().into(),
            award_criterion: b.award_criterion.as_str().into(),
            conducted_by: b.conducted_by.as_str().into(),
            base_amount: b.base_amount.to_string(),
            safety_costs: b.safety_costs.to_string(),
            labour_intensive: b.labour_intensive,
            intellectual_services: b.intellectual_services,
            framework_agreement: b.framework_agreement,
            dynamic_purchasing_system: b.dynamic_purchasing_system,
            urgency_reason: b.urgency_reason.clone().unwrap_or_default(),
            questions_deadline: wall(&b.questions_deadline),
            submission_deadline: wall(&b.submission_deadline),
            opening_at: wall(&b.opening_at),
            offer_validity_days: b.offer_validity_days.to_string(),
            envelopes: b.envelopes.iter().map(|e| e.as_str().to_string()).collect(),
            anomaly_method: b.anomaly_method.map(|m| m.as_str().to_string()).unwrap_or_default(),
            reference_discount: b
                .anomaly_terms
                .reference_discount
                .map(|r| r.to_string())
                .unwrap_or_default(),
            tabella_a: b.anomaly_terms.reference_discount_tabella_a,
            reference_motivation: b
                .anomaly_terms
                .reference_discount_motivation
                .clone()
                .unwrap_or_default(),
            cross_border: b.anomaly_terms.cross_border_interest,
            draw_methods: b
                .anomaly_terms
                .draw_methods
                .iter()
                .map(|m| m.as_str().to_string())
                .collect(),
            offer_decimals: b
                .anomaly_terms
                .offer_decimals
                .map(|n| n.to_string())
                .unwrap_or_default(),
            custodians: b.custodians.iter().flatten().map(|c| c.to_string()).collect(),
            custodian_threshold: b.custodian_threshold.map(|k| k.to_string()).unwrap_or_default(),
            invitees: b.invitees.iter().flatten().map(|c| c.to_string()).collect(),
            lots: b
                .lotti
                .iter()
                .map(|l| LotRow {
                    oggetto: l.oggetto.clone(),
                    cig: l.cig.clone(),
                    base_amount: l.base_amount.to_string(),
                    safety_costs: l.safety_costs.to_string(),
                })
                .collect(),
            formula: "linear".into(),
            ..Default::default()
        };
        if let Some(o) = &b.oepv {
            d.criteria = o.criteria.iter().map(CritRow::of).collect();
            d.economic_weight = o.economic_weight.to_string();
            d.formula = o.economic_formula.kind.as_str().into();
            d.alpha = o.economic_formula.alpha.map(|a| a.to_string()).unwrap_or_default();
            d.x = o.economic_formula.x.map(|a| a.to_string()).unwrap_or_default();
            d.technical_threshold = o.technical_threshold.map(|a| a.to_string()).unwrap_or_default();
            d.reparametrization = o.reparametrization;
            d.reparametrize_total = o.reparametrize_total;
        }
        d.pad();
        d
    }

    /// The spare empty rows after the filled ones.
    pub fn pad(&mut self) {
        while self.lots.last().is_some_and(LotRow::is_blank) && self.lots.len() > SPARE_ROWS {
            self.lots.pop();
        }
        let filled = self.lots.iter().filter(|l| !l.is_blank()).count();
        while self.lots.len() < filled + SPARE_ROWS {
            self.lots.push(LotRow::default());
        }
        let filled = self.criteria.iter().filter(|c| !c.is_blank()).count();
        while self.criteria.len() < (filled + 1).max(MORE_ROWS) {
            self.criteria.push(CritRow::default());
        }
        self.pad_criteria();
    }

    /// The spare rows of each criterion's table and sub-criteria (the rows of a table appear
    /// when its criterion is made tabular).
    pub fn pad_criteria(&mut self) {
        for c in &mut self.criteria {
            c.pad();
        }
    }

    /// Blank rows out before saving: the domain then names row `i` as the form does.
    pub fn compact(&mut self) {
        self.lots.retain(|l| !l.is_blank());
        self.criteria.retain(|c| !c.is_blank());
        for c in &mut self.criteria {
            c.compact();
        }
    }

    fn criterion_at(&mut self, p: CritPath) -> Option<&mut CritRow> {
        let c = self.criteria.get_mut(p.crit)?;
        match p.sub {
            Some(j) => c.subs.get_mut(j),
            None => Some(c),
        }
    }

    pub fn add_table_rows(&mut self, p: CritPath) {
        if let Some(c) = self.criterion_at(p) {
            c.kind = CriterionKind::Tabular.as_str().into();
            c.table.extend(std::iter::repeat_n(TableRowForm::default(), SPARE_ROWS));
        }
    }

    pub fn add_sub_criteria(&mut self, p: CritPath) {
        if let Some(c) = self.criteria.get_mut(p.crit) {
            c.subs.extend(std::iter::repeat_n(CritRow::default(), SPARE_ROWS));
        }
    }

    pub fn remove(&mut self, p: CritPath) {
        match (p.sub, p.row) {
            (None, None) if p.crit < self.criteria.len() => {
                self.criteria.remove(p.crit);
            }
            (Some(j), None) => {
                if let Some(c) = self.criteria.get_mut(p.crit).filter(|c| j < c.subs.len()) {
                    c.subs.remove(j);
                }
            }
            (_, Some(r)) => {
                if let Some(c) = self.criterion_at(p).filter(|c| r < c.table.len()) {
                    c.table.remove(r);
                }
            }
            _ => {}
        }
    }

    pub fn remove_invitee(&mut self, id: &str) {
        self.invitees.retain(|i| i != id);
    }

    pub fn add_lots(&mut self) {
        self.lots.extend(std::iter::repeat_n(LotRow::default(), MORE_ROWS));
    }

    pub fn add_criteria(&mut self) {
        self.criteria.extend(std::iter::repeat_n(CritRow::default(), MORE_ROWS));
    }

    /// A search result chosen into its field.
    pub fn choose(&mut self, target: &str, code: &str) {
        match target {
            "cpv_main" => self.cpv_main = code.to_string(),
            "cpv_add" => {
                let mut codes: Vec<String> = split_codes(&self.cpv_additional);
                if !codes.iter().any(|c| c == code) {
                    codes.push(code.to_string());
                }
                self.cpv_additional = codes.join(", ");
            }
            "nuts" => self.nuts = code.to_string(),
            "invitee" if !self.invitees.iter().any(|i| i == code) => self.invitees.push(code.to_string()),
            _ => {}
        }
    }

    /// The domain's input, or the fields that are not even numbers, dates or known choices
    /// (what they must be beyond that is the domain's to say).
    pub fn to_new(&self, fallback_ente: Option<Uuid>) -> Result<NewBando, FieldErrors> {
        let mut e = Errs::default();
        let ente_id = match Uuid::parse_str(self.ente.trim()).ok().or(fallback_ente) {
            Some(id) => id,
            None => {
                e.bad("ente_id", "Scegliere l'ente per cui si bandisce la gara");
                Uuid::nil()
            }
        };
        let contract_type = ContractType::parse(&self.contract_type).unwrap_or_else(|| {
            e.bad("contract_type", "Tipo di appalto sconosciuto");
            ContractType::Works
        });
        let procedure_type = ProcedureType::parse(&self.procedure_type).unwrap_or_else(|| {
            e.bad("procedure_type", "Procedura sconosciuta");
            ProcedureType::Aperta
        });
        let award_criterion = AwardCriterion::parse(&self.award_criterion).unwrap_or_else(|| {
            e.bad("award_criterion", "Criterio di aggiudicazione sconosciuto");
            AwardCriterion::MinorPrezzo
        });
        let base_amount = e.money("base_amount", &self.base_amount, true).unwrap_or_default();
        let safety_costs = e.money("safety_costs", &self.safety_costs, false).unwrap_or_default();
        let mut lotti = Vec::new();
        for (i, l) in self.lots.iter().enumerate().filter(|(_, l)| !l.is_blank()) {
            let base = e
                .money(&format!("lotti[{i}].base_amount"), &l.base_amount, true)
                .unwrap_or_default();
            let safety = e
                .money(&format!("lotti[{i}].safety_costs"), &l.safety_costs, false)
                .unwrap_or_default();
            lotti.push(NewLotto {
                oggetto: l.oggetto.trim().to_string(),
                cig: l.cig.trim().to_string(),
                base_amount: base,
                safety_costs: safety,
            });
        }
        let oepv = if award_criterion == AwardCriterion::Oepv {
            let mut criteria = Vec::new();
            for (i, c) in self.criteria.iter().enumerate().filter(|(_, c)| !c.is_blank()) {
                criteria.push(c.to_criterion(&format!("oepv.criteria[{i}]"), &mut e));
            }
            let economic_weight = e
                .money("oepv.economic_weight", &self.economic_weight, true)
                .unwrap_or_default();
            let kind = FormulaKind::parse(&self.formula).unwrap_or_else(|| {
                e.bad("oepv.economic_formula.kind", "Formula economica sconosciuta");
                FormulaKind::Linear
            });
            let alpha = e.money("oepv.economic_formula.alpha", &self.alpha, false);
            let x = e.money("oepv.economic_formula.x", &self.x, false);
            let technical_threshold = e.money("oepv.technical_threshold", &self.technical_threshold, false);
            Some(Oepv {
                criteria,
                economic_weight,
                economic_formula: EconomicFormula { kind, alpha, x },
                technical_threshold,
                reparametrization: self.reparametrization,
                reparametrize_total: self.reparametrize_total,
            })
        } else {
            None
        };
        let reference_discount = e.money("anomaly_terms.reference_discount", &self.reference_discount, false);
        let offer_validity_days = e
            .whole("offer_validity_days", &self.offer_validity_days)
            .map(|n| n as i32);
        let custodian_threshold = e
            .whole("custodian_threshold", &self.custodian_threshold)
            .map(|n| n as i32);
        let offer_decimals = e
            .whole("anomaly_terms.offer_decimals", &self.offer_decimals)
            .map(|n| n as u32);
        let mut envelopes = Vec::new();
        for x in &self.envelopes {
            match Envelope::parse(x) {
                Some(x) => envelopes.push(x),
                None => e.bad("envelopes", "Busta sconosciuta"),
            }
        }
        let anomaly_method = match self.anomaly_method.trim() {
            "" => None,
            m => AnomalyMethod::parse(m).or_else(|| {
                e.bad("anomaly_method", "Metodo sconosciuto");
                None
            }),
        };
        let draw_methods = self
            .draw_methods
            .iter()
            .filter_map(|m| AnomalyMethod::parse(m))
            .collect();
        let custodians = e.ids("custodians", self.custodians.iter().map(String::as_str));
        let invitees = e.ids("invitees", self.invitees.iter().map(String::as_str));
        let text = |s: &str| Some(s.trim().to_string()).filter(|s| !s.is_empty());
        let input = NewBando {
            ente_id,
            oggetto: self.oggetto.clone(),
            cig: text(&self.cig),
            cup: text(&self.cup),
            cpv_main: self.cpv_main.trim().to_string(),
            cpv_additional: split_codes(&self.cpv_additional),
            nuts: self.nuts.trim().to_string(),
            contract_type,
            procedure_type,
            award_criterion,
            oepv,
            base_amount,
            safety_costs,
            labour_intensive: self.labour_intensive,
            intellectual_services: self.intellectual_services,
            framework_agreement: self.framework_agreement,
            dynamic_purchasing_system: self.dynamic_purchasing_system,
            urgency_reason: text(&self.urgency_reason),
            questions_deadline: text(&self.questions_deadline),
            submission_deadline: text(&self.submission_deadline),
            opening_at: text(&self.opening_at),
            offer_validity_days,
            envelopes,
            anomaly_method,
            anomaly_terms: AnomalyTerms {
                reference_discount,
                reference_discount_tabella_a: self.tabella_a,
                reference_discount_motivation: text(&self.reference_motivation),
                cross_border_interest: self.cross_border,
                draw_methods,
                offer_decimals,
            },
            custodians,
            custodian_threshold,
            invitees,
            lotti,
            conducted_by: ConductedBy::parse(&self.conducted_by),
        };
        if e.0.is_empty() {
            Ok(input)
        } else {
            Err(FieldErrors {
                by_field: e.0,
                ..Default::default()
            })
        }
    }
}

/// Input that is not a number, a date or an id, by field.
#[derive(Default)]
struct Errs(BTreeMap<String, String>);

impl Errs {
    fn bad(&mut self, field: &str, message: &str) {
        self.0.entry(field.to_string()).or_insert_with(|| message.to_string());
    }

    fn money(&mut self, field: &str, raw: &str, required: bool) -> Option<Decimal> {
        match amount(raw) {
            Ok(Some(v)) => Some(v),
            Ok(None) => {
                if required {
                    self.bad(field, "Indicare l'importo, ad esempio 250000,00");
                }
                None
            }
            Err(NotAnAmount) => {
                self.bad(
                    field,
                    "Valore non valido: solo cifre, con la virgola per i decimali (ad esempio 250000,00)",
                );
                None
            }
        }
    }

    /// A number that is not an amount of euro (a coefficient, a bound of a range).
    fn decimal(&mut self, field: &str, raw: &str, required: bool, example: &str) -> Option<Decimal> {
        match amount(raw) {
            Ok(Some(v)) => Some(v),
            Ok(None) => {
                if required {
                    self.bad(field, &format!("Indicare un numero, ad esempio {example}"));
                }
                None
            }
            Err(NotAnAmount) => {
                self.bad(
                    field,
                    &format!("Valore non valido: solo cifre, con la virgola per i decimali (ad esempio {example})"),
                );
                None
            }
        }
    }

    fn whole(&mut self, field: &str, raw: &str) -> Option<i64> {
        let t = raw.trim();
        if t.is_empty() {
            return None;
        }
        let n = t.parse::<i64>().ok().filter(|n| (0..=100_000).contains(n));
        if n.is_none() {
            self.bad(field, "Indicare un numero intero");
        }
        n
    }

    fn ids<'a>(&mut self, field: &str, raws: impl Iterator<Item = &'a str>) -> Vec<Uuid> {
        let mut out = Vec::new();
        for r in raws.map(str::trim).filter(|r| !r.is_empty()) {
            match Uuid::parse_str(r) {
                Ok(u) => out.push(u),
                Err(_) => self.bad(field, "Identificativo non valido"),
            }
        }
        out
    }
}

fn split_codes(s: &str) -> Vec<String> {
    s.split([',', ';', ' ', '\n'])
        .map(str::trim)
        .filter(|c| !c.is_empty())
        .map(str::to_string)
        .collect()
}

/// What [`amount`] refuses: text that is not a decimal number.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NotAnAmount;

/// An amount as Italians type it (`250000,00`, `250.000,00`) or as the API writes it
/// (`250000.00`); `None` when blank. Read as an exact decimal, never through a float.
pub fn amount(raw: &str) -> Result<Option<Decimal>, NotAnAmount> {
    let t: String = raw.trim().chars().filter(|c| !c.is_whitespace() && *c != '€').collect();
    if t.is_empty() {
        return Ok(None);
    }
    let normalized = if t.contains(',') {
        t.replace('.', "").replace(',', ".")
    } else {
        t
    };
    Decimal::from_str(&normalized).map(Some).map_err(|_| NotAnAmount)
}

/// A search result: what the chosen button sends (`target|code`) and what it says.
pub struct Choice {
    pub code: String,
    pub label: String,
}

/// CPV codes whose number starts with the digits typed, or whose Italian label has every
/// word typed.
pub fn search_cpv(q: &str) -> Vec<Choice> {
    let q = q.trim().to_lowercase();
    if q.is_empty() {
        return vec![];
    }
    let numeric = q.chars().all(|c| c.is_ascii_digit() || c == '-');
    let digits: String = q.chars().filter(char::is_ascii_digit).take(8).collect();
    let words: Vec<&str> = q.split_whitespace().collect();
    Cpv::all()
        .filter(|c| {
            if numeric {
                c.stem().starts_with(&digits)
            } else {
                let label = c.label_it().to_lowercase();
                words.iter().all(|w| label.contains(w))
            }
        })
        .take(MAX_RESULTS)
        .map(|c| Choice {
            code: c.code().to_string(),
            label: c.label_it().to_string(),
        })
        .collect()
}

fn nuts1_name(code: &str) -> &'static str {
    match code {
        "ITC" => "Nord-ovest",
        "ITH" => "Nord-est",
        "ITI" => "Centro",
        "ITF" => "Sud",
        "ITG" => "Isole",
        _ => "",
    }
}

/// NUTS codes (Italy, its areas, regions, provinces) found by code, by region, by province
/// abbreviation or by the name of a comune in it (ISTAT's list, as `domain::ids::Nuts`).
pub fn search_nuts(q: &str) -> Vec<Choice> {
    let q = q.trim();
    if q.is_empty() {
        return vec![];
    }
    let lower = q.to_lowercase();
    let upper = q.to_uppercase();
    let mut found: BTreeMap<String, String> = BTreeMap::new();
    if "italia".contains(&lower) || upper == "IT" {
        found.insert("IT".into(), "Italia".into());
    }
    for c in comuni() {
        let n3 = &c.nuts3_2021;
        if n3.len() < 5 {
            continue;
        }
        let n1 = &n3[..3];
        let n2 = &n3[..4];
        let entries = [
            (n1.to_string(), format!("{} (ripartizione)", nuts1_name(n1))),
            (n2.to_string(), format!("{} (regione)", c.region)),
            (n3.to_string(), format!("provincia {} ({})", c.province, c.region)),
        ];
        for (code, label) in entries {
            if code.starts_with(&upper) || label.to_lowercase().contains(&lower) {
                found.entry(code).or_insert(label);
            }
        }
        if c.name.to_lowercase() == lower || (lower.len() >= 4 && c.name.to_lowercase().starts_with(&lower)) {
            found
                .entry(n3.to_string())
                .or_insert_with(|| format!("provincia {} ({}), comune di {}", c.province, c.region, c.name));
        }
        if found.len() > MAX_RESULTS {
            break;
        }
    }
    found
        .into_iter()
        .take(MAX_RESULTS)
        .map(|(code, label)| Choice { code, label })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pairs(v: &[(&str, &str)]) -> Vec<(String, String)> {
        v.iter().map(|(a, b)| (a.to_string(), b.to_string())).collect()
    }

    #[test]
    fn amounts_read_the_italian_way_and_exactly() {
        assert_eq!(
            amount("250.000,50").expect("amount"),
            Decimal::from_str("250000.50").ok()
        );
        assert_eq!(
            amount("1000000.00").expect("amount"),
            Decimal::from_str("1000000.00").ok()
        );
        assert_eq!(amount(" ").expect("blank"), None);
        assert!(amount("mille").is_err());
    }

    #[test]
    fn rows_are_read_by_index_and_a_forged_index_is_ignored() {
        let (d, act) = Draft::from_pairs(&pairs(&[
            ("lotti[1].oggetto", "Secondo"),
            ("lotti[0].oggetto", "Primo"),
            ("lotti[99999999].oggetto", "no"),
            ("scegli", "nuts|ITC4C"),
        ]));
        assert_eq!(d.lots[0].oggetto, "Primo");
        assert_eq!(d.lots[1].oggetto, "Secondo");
        assert_eq!(d.lots.len(), 2);
        assert_eq!(act, Act::Choose("nuts".into(), "ITC4C".into()));
    }

    #[test]
    fn criteria_are_read_at_every_level_and_buttons_name_their_row() {
        let (d, act) = Draft::from_pairs(&pairs(&[
            ("oepv.criteria[0].code", "T1"),
            ("oepv.criteria[0].sub_criteria[5].code", "b"),
            ("oepv.criteria[0].sub_criteria[2].code", "a"),
            ("oepv.criteria[0].sub_criteria[2].table[40].option", "ISO"),
            ("oepv.criteria[0].sub_criteria[2].sub_criteria[0].code", "deeper"),
            (
                "oepv.criteria[0].sub_criteria[0].sub_criteria[0].sub_criteria[0].sub_criteria[0].sub_criteria[0].code",
                "too deep",
            ),
            ("oepv.criteria[1].kind", "tabular"),
            ("azione", "rimuovi|oepv.criteria[0].sub_criteria[1].table[3]"),
        ]));
        let t1 = &d.criteria[0];
        assert_eq!(t1.subs.len(), 3, "gaps collapse");
        assert_eq!(t1.subs[1].code, "a");
        assert_eq!(t1.subs[1].table[0].option, "ISO");
        assert_eq!(t1.subs[1].subs[0].code, "deeper", "a draft's deeper levels are kept");
        assert_eq!(t1.subs[2].code, "b");
        let mut level = &t1.subs[0];
        for _ in 0..3 {
            level = &level.subs[0];
        }
        assert!(level.subs.is_empty(), "no deeper than {MAX_DEPTH} levels");
        assert_eq!(d.criteria[1].kind(), CriterionKind::Tabular);
        assert_eq!(
            act,
            Act::Remove(CritPath {
                crit: 0,
                sub: Some(1),
                row: Some(3)
            })
        );
        assert_eq!(CritPath::parse("oepv.criteria[0].table[1].x"), None);
        assert_eq!(CritPath::parse("lotti[0]"), None);
    }

    #[test]
    fn nuts_are_found_by_comune_and_region() {
        assert!(search_nuts("Milano").iter().any(|c| c.code == "ITC4C"));
        assert!(search_nuts("lombardia").iter().any(|c| c.code == "ITC4"));
        assert!(search_cpv("45000000").iter().any(|c| c.code == "45000000-7"));
    }
}
