"""kinmatch: identify human remains by DNA kinship."""

__version__ = "0.1.0"
