"""Document filters as datatrove steps, all offline: options (config models), build (options -> steps),
language (fastText LID on the bundled lid.176.ftz), bad_words (C4 filter on better-profanity's list),
heuristics (Gopher/C4/FineWeb with guaranteed drop reasons), metadata_filter (URL/title/required keys),
pii (redaction and the `find_pii` detector). Submodules are not imported here, to keep config loading cheap."""
