"""Reading the files people upload (APKs, IPAs, symbol archives): pure, stdlib only, no I/O of its own."""
