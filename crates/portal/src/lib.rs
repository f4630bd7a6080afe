//! The server-rendered portal: public pages and the suppliers' area, in Italian, on the same
//! domain functions as the REST API.
