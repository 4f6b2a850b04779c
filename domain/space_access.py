"""Former home of the representatives' value objects: they live in
``domain.representatives`` (issue 10). Kept so that callers not yet moved keep importing.
"""

from domain.representatives import BASIS_ACTS, BASIS_REFERENCE_MAX, LegalBasis, Registry

__all__ = ["BASIS_ACTS", "BASIS_REFERENCE_MAX", "LegalBasis", "Registry"]
