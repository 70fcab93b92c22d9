"""The flows: every rule of the pending login, pairing, step-up, one-time password
and terminals lives in exactly one of these modules. Views (HTML and JSON) parse the
request, call a flow and render what it returns."""
