from lynsms.cli.main import app

app(prog_name="lynsms")
