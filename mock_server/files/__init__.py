"""The SDK's Files namespace: `POST /upload-asset` keeps media and answers persistent URLs."""
