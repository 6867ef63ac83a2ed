"""Presigned blob storage under /storage: S3-style signatures, files on disk."""
