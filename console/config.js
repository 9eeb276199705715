// Where the console REST API lives. Empty: the same origin as the console (the local stack serves
// both). The AWS deploy writes this file with the API's custom domain.
window.MDS_CONSOLE = { apiBase: "" };
