"""The domain: a patient's space, its documents, grants and access records.

Pure: no storage, HTTP or crypto backend is imported here.
"""
