//! What every page's frame shows: the title, who is logged in, the section of the menu, the
//! breadcrumbs and the CSRF token for its forms. Templates extend `base.html` with a `chrome`.

use crate::session::Visitor;

/// The top menu's sections; the one a page belongs to is marked as current.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Section {
    Home,
    Bandi,
    Esiti,
    Calcolatori,
    Trasparenza,
    Fornitore,
    Amministrazione,
    /// The officials' back office (`/ente`).
    Ente,
    Account,
    Info,
}

#[derive(Debug, Clone)]
pub struct Crumb {
    pub label: String,
    pub href: Option<String>,
}

#[derive(Debug, Clone)]
pub struct Chrome {
    pub title: String,
    pub section: Section,
    /// [`Chrome::nav_key`] of `section`.
    pub nav: &'static str,
    pub csrf: String,
    pub user_name: Option<String>,
    pub is_supplier: bool,
    pub is_official: bool,
    /// The centrale's admin: the navigation shows the administration.
    pub is_admin: bool,
    pub crumbs: Vec<Crumb>,
}

impl Chrome {
    pub fn new(visitor: &Visitor, title: impl Into<String>, section: Section) -> Self {
        let title = title.into();
        Chrome {
            csrf: visitor.csrf(),
            user_name: visitor.principal.as_ref().map(|p| p.email.clone()),
            is_supplier: visitor.is_supplier(),
            is_official: visitor.is_official(),
            is_admin: visitor.principal.as_ref().is_some_and(|p| p.is_admin()),
            crumbs: vec![],
            nav: Chrome::nav_key(section),
            section,
            title,
        }
    }

    /// For error pages, drawn without knowing who asked.
    pub fn bare(title: impl Into<String>) -> Self {
        Chrome {
            title: title.into(),
            section: Section::Info,
            nav: "info",
            csrf: String::new(),
            user_name: None,
            is_supplier: false,
            is_official: false,
            is_admin: false,
            crumbs: vec![],
        }
    }

    /// Adds a breadcrumb (the last one is the current page, without a link).
    pub fn crumb(mut self, label: impl Into<String>, href: Option<&str>) -> Self {
        self.crumbs.push(Crumb {
            label: label.into(),
            href: href.map(str::to_string),
        });
        self
    }

    /// The menu key templates compare with (`chrome.nav == "bandi"`).
    pub fn nav_key(section: Section) -> &'static str {
        match section {
            Section::Home => "home",
            Section::Bandi => "bandi",
            Section::Esiti => "esiti",
            Section::Calcolatori => "calcolatori",
            Section::Trasparenza => "trasparenza",
            Section::Fornitore => "fornitore",
            Section::Amministrazione => "amministrazione",
            Section::Ente => "ente",
            Section::Account => "account",
            Section::Info => "info",
        }
    }
}
