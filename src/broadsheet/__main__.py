from broadsheet.cli import app

app()
