//! The draft form as sections of labelled fields, each with its error from the domain next to
//! it: one generic template (`official/bandi-modulo.html`) draws them, so every field gets its
//! visible label and its `aria-describedby` the same way.

use bando::model::{AnomalyMethod, AwardCriterion, Better, ContractType, CriterionKind, FormulaKind, ProcedureType};
use uuid::Uuid;

use super::modulo::{Choice, CritRow, Draft};
use crate::forms::FieldErrors;
use crate::labels;

pub struct Opt {
    pub value: String,
    pub label: String,
    pub selected: bool,
}

pub struct Field {
    pub name: String,
    pub id: String,
    pub label: String,
    /// text, number, datetime, textarea, select, checkbox, checks, search.
    pub kind: &'static str,
    pub value: String,
    pub checked: bool,
    pub options: Vec<Opt>,
    pub hint: String,
    pub error: Option<String>,
    /// `search`, `picker`, `select`: the button's `azione` (and a select's button text), and
    /// the results with the targets they fill.
    pub action: String,
    pub action_label: String,
    pub results: Vec<(String, Vec<(String, String)>)>,
    /// `picker`: what is chosen, (value posted back hidden, what it says).
    pub chosen: Vec<(String, String)>,
    pub col: &'static str,
}

impl Field {
    fn new(name: &str, label: &str, kind: &'static str, value: &str) -> Self {
        Field {
            name: name.to_string(),
            id: format!(
                "f-{}",
                name.chars()
                    .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
                    .collect::<String>()
            ),
            label: label.to_string(),
            kind,
            value: value.to_string(),
            checked: false,
            options: vec![],
            hint: String::new(),
            error: None,
            action: String::new(),
            action_label: String::new(),
            results: vec![],
            chosen: vec![],
            col: "col-md-6",
        }
    }

    fn hint(mut self, h: &str) -> Self {
        self.hint = h.to_string();
        self
    }

    fn col(mut self, c: &'static str) -> Self {
        self.col = c;
        self
    }

    fn checked(mut self, on: bool) -> Self {
        self.checked = on;
        self
    }

    fn options(mut self, opts: Vec<(String, String)>, chosen: &[String]) -> Self {
        self.options = opts
            .into_iter()
            .map(|(value, label)| Opt {
                selected: chosen.contains(&value),
                value,
                label,
            })
            .collect();
        self
    }

    pub fn describedby(&self) -> String {
        let mut ids = vec![];
        if !self.hint.is_empty() {
            ids.push(format!("{}-aiuto", self.id));
        }
        if self.error.is_some() {
            ids.push(format!("{}-errore", self.id));
        }
        ids.join(" ")
    }
}

pub struct Group {
    pub legend: String,
    pub fields: Vec<Field>,
    /// Buttons that repost the form acting on this group's rows: (`azione`, label).
    pub buttons: Vec<(String, String)>,
    /// Nesting under the group before it (a sub-criterion, a table row), for the indent.
    pub depth: u8,
}

impl Group {
    fn plain(legend: String, fields: Vec<Field>) -> Self {
        Group {
            legend,
            fields,
            buttons: vec![],
            depth: 0,
        }
    }
}

pub struct Part {
    pub id: &'static str,
    pub title: &'static str,
    pub intro: &'static str,
    pub groups: Vec<Group>,
    /// A button that reposts the form with more empty rows: (`azione`, label).
    pub more: Option<(&'static str, &'static str)>,
}

/// What the form offers to choose from, besides what was typed.
pub struct Context {
    pub enti: Vec<(Uuid, String)>,
    pub members: Vec<(Uuid, String)>,
    pub cpv_results: Vec<Choice>,
    pub nuts_results: Vec<Choice>,
    /// Qualified suppliers of the albo found by the invitees' search (code: account id).
    pub invitee_results: Vec<Choice>,
    /// Who the chosen invitees are, by account id ("ragione sociale · P.IVA").
    pub invitee_names: std::collections::HashMap<String, String>,
}

fn one(group: Vec<Field>) -> Vec<Group> {
    vec![Group::plain(String::new(), group)]
}

fn kind_label(k: CriterionKind) -> &'static str {
    match k {
        CriterionKind::Discretionary => "Discrezionale: coefficienti dei commissari",
        CriterionKind::Quantitative => "Quantitativo: formula sul valore dichiarato",
        CriterionKind::Tabular => "Tabellare: coefficiente fisso per opzione o intervallo",
    }
}

/// A criterion's groups: its own fields (with those its kind needs), its table's rows, and,
/// at the first level, its sub-criteria with theirs. `path` is the domain's (`oepv.criteria[0]`,
/// `oepv.criteria[0].sub_criteria[1]`), so the domain's errors land on these fields.
fn criterion_groups(out: &mut Vec<Group>, c: &CritRow, path: &str, legend: String, depth: u8) {
    let f = |leaf: &str| format!("{path}.{leaf}");
    let kind = c.kind();
    let mut kind_field = Field::new(&f("kind"), "Tipo di criterio", "select", "")
        .options(
            CriterionKind::ALL
                .iter()
                .map(|k| (k.as_str().to_string(), kind_label(*k).to_string()))
                .collect(),
            &[kind.as_str().to_string()],
        )
        .col("col-md-6");
    kind_field.action = "tipo".into();
    kind_field.action_label = "Mostra i campi del tipo scelto".into();
    let mut fields = vec![
        Field::new(&f("code"), "Codice", "text", &c.code).col("col-md-2"),
        Field::new(&f("description"), "Descrizione", "text", &c.description).col("col-md-7"),
        Field::new(&f("weight"), "Punti", "text", &c.weight).col("col-md-3"),
        kind_field,
    ];
    if kind == CriterionKind::Quantitative {
        fields.push(
            Field::new(&f("quantitative.better"), "Valore migliore", "select", "")
                .options(
                    vec![
                        (String::new(), "Scegliere".into()),
                        (
                            Better::Higher.as_str().into(),
                            "Il più alto (C = (V − min) / (max − min))".into(),
                        ),
                        (
                            Better::Lower.as_str().into(),
                            "Il più basso (C = (max − V) / (max − min))".into(),
                        ),
                    ],
                    std::slice::from_ref(&c.better),
                )
                .col("col-md-6"),
        );
        fields.push(
            Field::new(&f("quantitative.min"), "Minimo dell'intervallo", "text", &c.min)
                .hint("I valori fuori dall'intervallo valgono come l'estremo più vicino.")
                .col("col-md-6"),
        );
        fields.push(Field::new(&f("quantitative.max"), "Massimo dell'intervallo", "text", &c.max).col("col-md-6"));
    }
    // The buttons name a criterion or its sub-criterion (`CritPath`): deeper levels, which
    // only a draft made through the API has, are edited in their fields.
    let mut buttons = vec![];
    if kind == CriterionKind::Tabular && depth <= 1 {
        buttons.push((
            format!("righe_tabella|{path}"),
            "Aggiungi righe alla tabella".to_string(),
        ));
    }
    if depth == 0 {
        buttons.push((format!("sub_criteri|{path}"), "Aggiungi sub-criteri".to_string()));
    }
    if depth <= 1 {
        buttons.push((
            format!("rimuovi|{path}"),
            if depth == 0 {
                "Rimuovi il criterio"
            } else {
                "Rimuovi il sub-criterio"
            }
            .to_string(),
        ));
    }
    let name = legend.clone();
    out.push(Group {
        legend,
        fields,
        buttons,
        depth,
    });
    if kind == CriterionKind::Tabular {
        for (r, row) in c.table.iter().enumerate() {
            let rp = format!("{path}.table[{r}]");
            let g = |leaf: &str| format!("{rp}.{leaf}");
            out.push(Group {
                legend: format!("{name}: riga {} della tabella", r + 1),
                fields: vec![
                    Field::new(&g("option"), "Opzione (testo esatto)", "text", &row.option)
                        .hint("Oppure un intervallo: da (compreso) e a (escluso).")
                        .col("col-md-4"),
                    Field::new(&g("from"), "Da", "text", &row.from).col("col-md-2"),
                    Field::new(&g("to"), "A", "text", &row.to).col("col-md-2"),
                    Field::new(&g("coefficient"), "Coefficiente (da 0 a 1)", "text", &row.coefficient)
                        .hint("Punti = coefficiente × punti del criterio.")
                        .col("col-md-4"),
                ],
                buttons: if depth <= 1 {
                    vec![(format!("rimuovi|{rp}"), "Rimuovi la riga".to_string())]
                } else {
                    vec![]
                },
                depth: depth + 1,
            });
        }
    }
    for (j, s) in c.subs.iter().enumerate() {
        criterion_groups(
            out,
            s,
            &format!("{path}.sub_criteria[{j}]"),
            format!("{name}, sub-criterio {}", j + 1),
            depth + 1,
        );
    }
}

fn enum_opts<T: Copy>(all: &[T], code: fn(T) -> &'static str, label: fn(T) -> String) -> Vec<(String, String)> {
    all.iter().map(|v| (code(*v).to_string(), label(*v))).collect()
}

pub fn parts(d: &Draft, cx: &Context, errors: &FieldErrors) -> (Vec<Part>, Vec<String>) {
    let chosen = |v: &str| vec![v.to_string()];
    let mut ente = Field::new("ente_id", "Ente per cui si bandisce la gara", "select", &d.ente)
        .options(
            cx.enti.iter().map(|(id, n)| (id.to_string(), n.clone())).collect(),
            &chosen(&d.ente),
        )
        .hint("Cambiando ente, premere «Aggiorna i custodi» per vederne i funzionari.");
    ente.action = "ente".into();
    ente.action_label = "Aggiorna i custodi".into();
    let mut invitees = Field::new(
        "invitees_q",
        "Operatori invitati (procedure negoziate e affidamenti diretti): cerca nell'albo",
        "picker",
        &d.invitees_q,
    )
    .hint("Ragione sociale o partita IVA; si trovano solo gli operatori qualificati nell'albo. Vuoto per le procedure aperte.")
    .col("col-12");
    invitees.action = "cerca_invitati".into();
    invitees.results = cx
        .invitee_results
        .iter()
        .map(|c| {
            (
                c.label.clone(),
                vec![(format!("invitee|{}", c.code), "Aggiungi".to_string())],
            )
        })
        .collect();
    invitees.chosen = d
        .invitees
        .iter()
        .map(|id| {
            let label = cx
                .invitee_names
                .get(id)
                .cloned()
                .unwrap_or_else(|| format!("{id} (non trovato nell'albo)"));
            (id.clone(), label)
        })
        .collect();
    let procedure = vec![
        ente,
        Field::new("oggetto", "Oggetto dell'appalto", "text", &d.oggetto).col("col-12"),
        Field::new("cig", "CIG", "text", &d.cig)
            .hint("10 caratteri; se il bando ha lotti, ogni lotto ha il suo e questo resta vuoto.")
            .col("col-md-4"),
        Field::new("cup", "CUP (facoltativo)", "text", &d.cup).col("col-md-4"),
        Field::new("contract_type", "Tipo di appalto", "select", "")
            .options(
                enum_opts(ContractType::ALL, ContractType::as_str, |c| {
                    labels::contract(c).to_string()
                }),
                &chosen(&d.contract_type),
            )
            .col("col-md-4"),
        Field::new("procedure_type", "Procedura di scelta del contraente", "select", "").options(
            enum_opts(ProcedureType::ALL, ProcedureType::as_str, |p| {
                labels::procedure(p).to_string()
            }),
            &chosen(&d.procedure_type),
        ),
        Field::new("conducted_by", "Chi conduce la gara", "select", "").options(
            vec![
                ("ente".into(), "L'ente stesso".into()),
                (
                    "centrale".into(),
                    "La centrale di committenza per conto dell'ente (art. 62 c.6)".into(),
                ),
            ],
            &chosen(&d.conducted_by),
        ),
        Field::new(
            "urgency_reason",
            "Motivazione dell'urgenza (facoltativa)",
            "textarea",
            &d.urgency_reason,
        )
        .hint("Solo per i termini ridotti (art. 71 c.3, art. 72 c.6): la motivazione è pubblicata.")
        .col("col-12"),
        invitees,
    ];
    let criterion = vec![
        Field::new("award_criterion", "Criterio di aggiudicazione (art. 108)", "select", "").options(
            enum_opts(AwardCriterion::ALL, AwardCriterion::as_str, |c| {
                labels::criterion(c).to_string()
            }),
            &chosen(&d.award_criterion),
        ),
        Field::new("envelopes", "Buste richieste", "checks", "")
            .options(
                ["A", "B", "C"]
                    .iter()
                    .map(|e| (e.to_string(), labels::envelope(e).to_string()))
                    .collect(),
                &d.envelopes,
            )
            .hint("Con l'offerta economicamente più vantaggiosa serve anche la busta B."),
        Field::new(
            "labour_intensive",
            "Servizio ad alta intensità di manodopera",
            "checkbox",
            "",
        )
        .checked(d.labour_intensive),
        Field::new(
            "intellectual_services",
            "Servizi di ingegneria, architettura o di natura intellettuale",
            "checkbox",
            "",
        )
        .checked(d.intellectual_services),
        Field::new(
            "framework_agreement",
            "Contratto basato su un accordo quadro",
            "checkbox",
            "",
        )
        .checked(d.framework_agreement),
        Field::new(
            "dynamic_purchasing_system",
            "Contratto specifico di un sistema dinamico di acquisizione",
            "checkbox",
            "",
        )
        .checked(d.dynamic_purchasing_system),
    ];
    let amounts = vec![
        Field::new(
            "base_amount",
            "Importo a base di gara (euro, IVA esclusa)",
            "text",
            &d.base_amount,
        )
        .hint("Comprende gli oneri della sicurezza; ad esempio 250000,00."),
        Field::new(
            "safety_costs",
            "di cui oneri della sicurezza (euro)",
            "text",
            &d.safety_costs,
        )
        .hint("Non soggetti a ribasso."),
    ];
    let lots: Vec<Group> = d
        .lots
        .iter()
        .enumerate()
        .map(|(i, l)| {
            Group::plain(
                format!("Lotto {}", i + 1),
                vec![
                    Field::new(&format!("lotti[{i}].oggetto"), "Oggetto del lotto", "text", &l.oggetto).col("col-md-5"),
                    Field::new(&format!("lotti[{i}].cig"), "CIG del lotto", "text", &l.cig).col("col-md-3"),
                    Field::new(
                        &format!("lotti[{i}].base_amount"),
                        "Importo (euro)",
                        "text",
                        &l.base_amount,
                    )
                    .col("col-md-2"),
                    Field::new(
                        &format!("lotti[{i}].safety_costs"),
                        "Oneri sicurezza",
                        "text",
                        &l.safety_costs,
                    )
                    .col("col-md-2"),
                ],
            )
        })
        .collect();
    let cpv_add: Vec<(String, Vec<(String, String)>)> = cx
        .cpv_results
        .iter()
        .map(|c| {
            (
                format!("{} · {}", c.code, c.label),
                vec![
                    (format!("cpv_main|{}", c.code), "Principale".to_string()),
                    (format!("cpv_add|{}", c.code), "Aggiuntivo".to_string()),
                ],
            )
        })
        .collect();
    let mut cpv_q = Field::new(
        "cpv_q",
        "Cerca un codice CPV per numero o per parole",
        "search",
        &d.cpv_q,
    )
    .hint("Ad esempio «45233» oppure «pulizia edifici»; poi scegliere il codice tra i risultati.")
    .col("col-12");
    cpv_q.action = "cerca_cpv".into();
    cpv_q.results = cpv_add;
    let mut nuts_q = Field::new(
        "nuts_q",
        "Cerca il luogo di esecuzione: comune, provincia, regione o codice NUTS",
        "search",
        &d.nuts_q,
    )
    .hint("Ad esempio «Milano» oppure «Lombardia».")
    .col("col-12");
    nuts_q.action = "cerca_nuts".into();
    nuts_q.results = cx
        .nuts_results
        .iter()
        .map(|c| {
            (
                format!("{} · {}", c.code, c.label),
                vec![(format!("nuts|{}", c.code), "Scegli".to_string())],
            )
        })
        .collect();
    let places = vec![
        cpv_q,
        Field::new("cpv_main", "CPV principale", "text", &d.cpv_main).hint("Ad esempio 45000000-7."),
        Field::new(
            "cpv_additional",
            "CPV aggiuntivi (facoltativi)",
            "text",
            &d.cpv_additional,
        )
        .hint("Separati da virgole."),
        nuts_q,
        Field::new("nuts", "Codice NUTS del luogo di esecuzione", "text", &d.nuts).hint("Ad esempio ITC4C."),
    ];
    let times = vec![
        Field::new(
            "questions_deadline",
            "Termine per le richieste di chiarimenti",
            "datetime",
            &d.questions_deadline,
        )
        .col("col-md-4"),
        Field::new(
            "submission_deadline",
            "Termine per la presentazione delle offerte",
            "datetime",
            &d.submission_deadline,
        )
        .col("col-md-4"),
        Field::new(
            "opening_at",
            "Apertura delle buste (prima seduta)",
            "datetime",
            &d.opening_at,
        )
        .col("col-md-4"),
        Field::new(
            "offer_validity_days",
            "Giorni di validità delle offerte (facoltativo)",
            "number",
            &d.offer_validity_days,
        )
        .hint("Se vuoto, 180 giorni (art. 17 c.4)."),
    ];
    let custody = vec![
        Field::new("custodians", "Custodi delle chiavi", "checks", "")
            .options(
                cx.members.iter().map(|(id, n)| (id.to_string(), n.clone())).collect(),
                &d.custodians,
            )
            .hint("Funzionari dell'ente che custodiscono ciascuno una parte della chiave delle offerte."),
        Field::new(
            "custodian_threshold",
            "Custodi necessari per aprire le offerte (soglia k)",
            "number",
            &d.custodian_threshold,
        )
        .hint("Ad esempio 2 su 3: bastano due custodi qualsiasi."),
    ];
    let methods = || {
        AnomalyMethod::ALL
            .iter()
            .map(|m| (m.as_str().to_string(), format!("Metodo {}", m.as_str())))
            .collect::<Vec<_>>()
    };
    let mut method_opts = vec![(String::new(), "Nessuno".to_string())];
    method_opts.extend(methods());
    let anomaly = vec![
        Field::new(
            "anomaly_method",
            "Metodo di esclusione automatica (Allegato II.2)",
            "select",
            "",
        )
        .options(method_opts, &chosen(&d.anomaly_method))
        .hint("Per il minor prezzo sotto soglia; oppure nessuno e i metodi del sorteggio qui sotto."),
        Field::new(
            "anomaly_terms.draw_methods",
            "Metodi tra cui sorteggiare (art. 54 c.2)",
            "checks",
            "",
        )
        .options(methods(), &d.draw_methods),
        Field::new(
            "anomaly_terms.reference_discount",
            "Ribasso di riferimento del metodo C (%)",
            "text",
            &d.reference_discount,
        ),
        Field::new(
            "anomaly_terms.reference_discount_tabella_a",
            "Il ribasso di riferimento è quello della Tabella A",
            "checkbox",
            "",
        )
        .checked(d.tabella_a),
        Field::new(
            "anomaly_terms.reference_discount_motivation",
            "Motivazione se diverso dalla Tabella A",
            "textarea",
            &d.reference_motivation,
        )
        .col("col-12"),
        Field::new(
            "anomaly_terms.cross_border_interest",
            "Interesse transfrontaliero certo (nessuna esclusione automatica, art. 54 c.1)",
            "checkbox",
            "",
        )
        .checked(d.cross_border),
        Field::new(
            "anomaly_terms.offer_decimals",
            "Cifre decimali ammesse nell'offerta economica (facoltativo)",
            "number",
            &d.offer_decimals,
        ),
    ];
    let mut oepv: Vec<Group> = Vec::new();
    for (i, c) in d.criteria.iter().enumerate() {
        criterion_groups(
            &mut oepv,
            c,
            &format!("oepv.criteria[{i}]"),
            format!("Criterio tecnico {}", i + 1),
            0,
        );
    }
    oepv.push(Group::plain(
        "Offerta economica e soglie".into(),
        vec![
            Field::new(
                "oepv.economic_weight",
                "Punti dell'offerta economica",
                "text",
                &d.economic_weight,
            )
            .hint("Tecnica ed economica insieme fanno 100 punti; l'economica al più 30 (art. 108 c.4)."),
            Field::new("oepv.economic_formula.kind", "Formula economica", "select", "").options(
                FormulaKind::ALL
                    .iter()
                    .map(|f| (f.as_str().to_string(), formula_label(*f).to_string()))
                    .collect(),
                &chosen(&d.formula),
            ),
            Field::new(
                "oepv.economic_formula.alpha",
                "Esponente alfa (facoltativo)",
                "text",
                &d.alpha,
            )
            .col("col-md-4"),
            Field::new(
                "oepv.economic_formula.x",
                "X della bilineare (facoltativo)",
                "text",
                &d.x,
            )
            .col("col-md-4"),
            Field::new(
                "oepv.technical_threshold",
                "Soglia di sbarramento tecnica (facoltativa)",
                "text",
                &d.technical_threshold,
            )
            .col("col-md-4"),
            Field::new(
                "oepv.reparametrization",
                "Riparametrazione per criterio",
                "checkbox",
                "",
            )
            .checked(d.reparametrization),
            Field::new(
                "oepv.reparametrize_total",
                "Seconda riparametrazione sul punteggio tecnico totale",
                "checkbox",
                "",
            )
            .checked(d.reparametrize_total),
        ],
    ));
    let mut parts = vec![
        Part {
            id: "procedura",
            title: "Procedura",
            intro: "",
            groups: one(procedure),
            more: None,
        },
        Part {
            id: "criterio",
            title: "Criterio e buste",
            intro: "",
            groups: one(criterion),
            more: None,
        },
        Part {
            id: "importi",
            title: "Importi",
            intro: "",
            groups: one(amounts),
            more: None,
        },
        Part {
            id: "lotti",
            title: "Lotti",
            intro: "Lasciare vuoto per un appalto senza lotti; le righe vuote sono ignorate.",
            groups: lots,
            more: Some(("righe_lotti", "Aggiungi righe per i lotti")),
        },
        Part {
            id: "cpv-nuts",
            title: "Oggetto (CPV) e luogo di esecuzione (NUTS)",
            intro: "",
            groups: one(places),
            more: None,
        },
        Part {
            id: "termini",
            title: "Termini (ora italiana)",
            intro: "Date e ore si indicano nell'ora di Roma; la piattaforma le conserva in UTC.",
            groups: one(times),
            more: None,
        },
        Part {
            id: "custodi",
            title: "Custodi delle chiavi",
            intro: "",
            groups: one(custody),
            more: None,
        },
        Part {
            id: "anomalia",
            title: "Offerte anomale",
            intro: "",
            groups: one(anomaly),
            more: None,
        },
        Part {
            id: "oepv",
            title: "Criteri dell'offerta economicamente più vantaggiosa",
            intro: "Solo con il criterio OEPV; le righe vuote sono ignorate. Per ogni criterio si sceglie il tipo e si preme «Mostra i campi del tipo scelto»: il quantitativo chiede la formula, il tabellare le righe della tabella. I punti dei sub-criteri sommano quelli del loro criterio (art. 108 c.7–8).",
            groups: oepv,
            more: Some(("righe_criteri", "Aggiungi righe per i criteri")),
        },
    ];
    let general = place_errors(&mut parts, errors);
    (parts, general)
}

fn formula_label(f: FormulaKind) -> &'static str {
    match f {
        FormulaKind::Interpolation => "Interpolazione lineare",
        FormulaKind::Inverse => "Proporzionalità inversa",
        FormulaKind::Concave => "Concava (esponente alfa)",
        FormulaKind::Linear => "Lineare sul ribasso",
        FormulaKind::Bilinear => "Bilineare",
    }
}

/// Each message next to its field: the field named exactly, else the field whose name the
/// message's field extends (`custodians[1]` → `custodians`), else the first field of the
/// part the message names (`oepv` → the first criterion); the rest above the form.
fn place_errors(parts: &mut [Part], errors: &FieldErrors) -> Vec<String> {
    let mut general = errors.general.clone();
    for (key, message) in &errors.by_field {
        let names: Vec<String> = parts
            .iter()
            .flat_map(|p| p.groups.iter().flat_map(|g| g.fields.iter().map(|f| f.name.clone())))
            .collect();
        let exact = names.iter().find(|n| *n == key);
        let extended = || {
            names
                .iter()
                .filter(|n| {
                    key.starts_with(n.as_str()) && matches!(key.as_bytes().get(n.len()), Some(&b'[') | Some(&b'.'))
                })
                .max_by_key(|n| n.len())
        };
        let within = || names.iter().find(|n| n.starts_with(key.as_str()));
        match exact.or_else(extended).or_else(within).cloned() {
            Some(target) => {
                for f in parts
                    .iter_mut()
                    .flat_map(|p| p.groups.iter_mut().flat_map(|g| g.fields.iter_mut()))
                {
                    if f.name == target {
                        if f.error.is_none() {
                            f.error = Some(message.clone());
                        } else {
                            general.push(message.clone());
                        }
                        break;
                    }
                }
            }
            None => general.push(message.clone()),
        }
    }
    general
}
