"""The `reviews` command's parts that are not commands: printing to a terminal or as
JSON, the one-line failures with their exit codes, the shared options and the text
renderings. ``cli.py`` keeps the commands (parse, call the API, print); nothing in
``archive``, ``index`` or ``publish`` imports from here."""
