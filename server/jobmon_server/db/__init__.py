"""The database: models, engine set-up and portable statement helpers."""
