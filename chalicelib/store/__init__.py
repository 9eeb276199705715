"""The only importer of boto3 and pynamodb. AWS errors become ``chalicelib.domain.errors`` here."""
