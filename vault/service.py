"""The vault: the use cases of every concept, composed over one core.

``Vault`` is ``vault.core.VaultCore`` (the event store, key ring, blob store, clock,
and the steps every use case shares) with the use cases of each concept bound as its
methods. Each concept has one module, a set of functions over a ``VaultCore``:

============================  ===========================================================
``vault.life``                provision (one by one, the insurer's register), oppose,
                              activate, close, delete on request, reopen, new codes,
                              what falls due
``vault.documents``           the space key, upload, deposit, delete, orphan blobs
``vault.uploads``             direct uploads to the blob store: start, complete, abort
``vault.reads``               listing, read, content, the patient's views
``vault.exports``             the export archive of a space (its jobs: export_jobs)
``vault.devices``             reader devices: challenge, request, approval, revocation,
                              listing, enrolment codes
``vault.grants``              grants, revocations, the care team
``vault.confidentiality``     the three codes of a document
``vault.representatives``     legal representatives
``vault.blocks``              blocks, settings, the attending physician, access rules
``vault.emergency``           emergency access
``vault.notifications``       acknowledging notifications
============================  ===========================================================

A function bound here keeps its name, signature and docstring, so callers (the API,
the CLI, the bench, the tests) call ``vault.grant(...)`` as they always did; a unit
test may call ``vault.grants.grant(core, ...)`` on any ``VaultCore``. The core
imports none of the concept modules, and they import only the core (and, for a shared
summary, one another), so there is no import loop.
"""

from __future__ import annotations

from vault import (
    blocks,
    confidentiality,
    devices,
    documents,
    emergency,
    exports,
    grants,
    life,
    notifications,
    reads,
    representatives,
    uploads,
)
from vault.core import COMMAND_ATTEMPTS, VaultCore, open_details
from vault.documents import HEADER_PREFIX

__all__ = ["COMMAND_ATTEMPTS", "HEADER_PREFIX", "Vault"]


class Vault(VaultCore):
    """Coffre's application service over the event store, key ring and blob store."""

    # -- life (RULES.md, "Life of a space") ----------------------------------------
    provision = life.provision
    provision_register = life.provision_register
    reissue_code = life.reissue_code
    oppose = life.oppose
    activate = life.activate
    close_space = life.close_space
    request_deletion = life.request_deletion
    reopen = life.reopen
    space_state = life.space_state
    apply_due = life.apply_due

    # -- documents -----------------------------------------------------------------
    space_key = documents.space_key
    upload = documents.upload
    deposit = documents.deposit
    delete_document = documents.delete_document
    referenced_blobs = documents.referenced_blobs
    collect_orphans = documents.collect_orphans
    start_direct_upload = uploads.start_direct_upload
    complete_direct_upload = uploads.complete_direct_upload
    deposit_direct_upload = uploads.deposit_direct_upload
    abort_direct_upload = uploads.abort_direct_upload

    # -- reader devices ----------------------------------------------------------------
    device_challenge = devices.device_challenge
    request_device = devices.request_device
    approve_device = devices.approve_device
    revoke_device = devices.revoke_device
    issue_enrolment_code = devices.issue_enrolment_code

    # -- reads -----------------------------------------------------------------------
    read = reads.read
    documents_page = reads.documents_page
    open_content = reads.open_content
    authorise_log = reads.authorise_log
    log_titles = reads.log_titles
    open_details = open_details
    authorise_readers = reads.authorise_readers

    # -- the patient's export (its jobs: ``vault.export_jobs``) -------------------------
    check_export = exports.check_export
    write_archive = exports.write_archive

    # -- grants and the care team ------------------------------------------------------
    grant = grants.grant
    revoke = grants.revoke
    revoke_professional = grants.revoke_professional
    add_to_care_team = grants.add_to_care_team

    # -- confidentiality codes ---------------------------------------------------------
    change_codes = confidentiality.change_codes
    mask = confidentiality.mask
    unmask = confidentiality.unmask
    hide_from_representatives = confidentiality.hide_from_representatives
    release_to_patient = confidentiality.release_to_patient

    # -- blocks, settings, the attending physician ---------------------------------------
    block = blocks.block
    unblock = blocks.unblock
    designate_attending_physician = blocks.designate_attending_physician
    change_setting = blocks.change_setting
    access_rules = blocks.access_rules

    # -- representatives, emergency access, notifications --------------------------------
    add_representative = representatives.add_representative
    end_representation = representatives.end_representation
    invoke_emergency_access = emergency.invoke_emergency_access
    acknowledge_notifications = notifications.acknowledge_notifications

    # -- listings named like their concept's module: bound last, since in this class
    # body they shadow the module's name
    documents = reads.documents
    document = reads.document
    grants = grants.grants
    devices = devices.devices
