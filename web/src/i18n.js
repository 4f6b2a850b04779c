// The page's words, French first, English available (the vocabulary of RULES.md:
// espace, journal des accès, autorisation, équipe de soins, accès en urgence…).

const WORDS = {
  fr: {
    title: "Coffre — mon espace santé",
    skip: "Aller au contenu",
    language: "English",
    languageLabel: "Switch to English",
    nav: "Sections de mon espace",
    "nav.log": "Journal des accès",
    "nav.documents": "Mes documents",
    "nav.grants": "Qui peut lire quoi",
    "nav.device": "Cet appareil",
    "nav.spaces": "Espaces que je peux lire",
    "spaces.patient": "Patient (INS)",
    "spaces.open": "Voir les documents",
    "spaces.openLabel": "Voir les documents du patient {id}",
    "spaces.none": "Aucun patient ne vous a donné accès à son espace.",
    "spaces.choose": "Choisissez d'abord un espace (« Espaces que je peux lire »).",
    "spaces.viewing": "Espace du patient {id}",
    "device.byService": "Votre service d'enrôlement doit l'approuver.",
    "error.readRefused": "Lecture refusée : vous n'avez pas (ou plus) accès à ce document. La tentative est enregistrée dans le journal du patient.",
    signedIn: "Connecté : {name}",
    logout: "Se déconnecter",
    login: "Se connecter",
    loginNeeded: "Connectez-vous pour voir votre espace.",
    loading: "Chargement…",
    "log.title": "Journal des accès",
    "log.intro": "Chaque action sur votre espace, y compris les tentatives refusées. Consulter ce journal est aussi enregistré.",
    "log.when": "Quand",
    "log.who": "Qui",
    "log.what": "Quoi",
    "log.how": "Comment",
    "log.outcome": "Résultat",
    "log.empty": "Aucune action ne correspond.",
    "log.filters": "Filtrer le journal",
    "log.filter.action": "Action",
    "log.filter.any": "Toutes",
    "log.filter.since": "Depuis le",
    "log.filter.until": "Jusqu'au",
    "log.filter.actor": "Identifiant de la personne",
    "log.filter.apply": "Filtrer",
    "log.filter.reset": "Effacer les filtres",
    "log.older": "Plus anciens",
    "log.newer": "Plus récents",
    "log.page": "Page {n}",
    "log.emergency": "Accès en urgence",
    "log.justification": "Justification : {text}",
    "log.device": "Appareil : {name}",
    "outcome.allowed": "Autorisé",
    "outcome.refused": "Refusé",
    "how.grant": "Autorisation",
    "how.care_team": "Équipe de soins",
    "how.emergency": "Accès en urgence",
    "how.representative": "Représentant légal",
    "how.patient": "Vous-même",
    "how.author": "Auteur du document",
    "how.normal": "Normal",
    "docs.title": "Mes documents",
    "docs.type": "Type",
    "docs.name": "Titre",
    "docs.author": "Auteur",
    "docs.date": "Date",
    "docs.size": "Taille",
    "docs.actions": "Actions",
    "docs.open": "Ouvrir",
    "docs.save": "Enregistrer",
    "docs.openLabel": "Ouvrir « {title} »",
    "docs.saveLabel": "Enregistrer « {title} »",
    "docs.empty": "Aucun document.",
    "docs.deposit": "Déposer un document",
    "docs.file": "Fichier",
    "docs.depositSubmit": "Chiffrer et déposer",
    "docs.encrypting": "Chiffrement de « {title} » : {done}",
    "docs.sending": "Envoi de « {title} »…",
    "docs.deposited": "« {title} » a été chiffré dans ce navigateur et déposé.",
    "docs.unreadable": "Le fichier n'a pas pu être lu ; rien n'a été déposé.",
    "docs.needDevice": "Pour ouvrir un document, cet appareil doit d'abord être approuvé (section « Cet appareil »).",
    "docs.progress": "Déchiffrement de « {title} » : {done}",
    "docs.saved": "« {title} » a été déchiffré et vérifié.",
    "grants.title": "Qui peut lire quoi",
    "grants.who": "Professionnel",
    "grants.scope": "Portée",
    "grants.since": "Depuis",
    "grants.expires": "Expire",
    "grants.state": "État",
    "grants.never": "Jamais",
    "grants.active": "Active",
    "grants.revoked": "Révoquée",
    "grants.expired": "Expirée",
    "grants.revoke": "Révoquer",
    "grants.revokeLabel": "Révoquer l'autorisation de {name}",
    "grants.revoked.done": "L'autorisation de {name} est révoquée : sa prochaine lecture sera refusée.",
    "grants.careTeam": "équipe de soins",
    "grants.empty": "Aucune autorisation.",
    "grants.new": "Autoriser un professionnel",
    "grants.rpps": "Numéro RPPS",
    "grants.name": "Nom",
    "grants.profession": "Profession",
    "grants.organisation": "Organisation (facultatif)",
    "grants.submit": "Autoriser à lire tout mon espace",
    "grants.granted": "{name} peut maintenant lire votre espace.",
    "scope.space": "Tout l'espace",
    "scope.types": "Types : {list}",
    "scope.documents": "{n} document(s)",
    "device.title": "Cet appareil",
    "device.intro": "Vos documents sont déchiffrés dans ce navigateur, avec une clé créée ici et qui n'en sort jamais. Elle doit être approuvée avant de recevoir une clé de document.",
    "device.none": "Cet appareil n'a pas encore de clé.",
    "device.name": "Nom de cet appareil",
    "device.defaultName": "Navigateur",
    "device.add": "Créer la clé de cet appareil",
    "device.pending": "La clé de cet appareil ({id}) attend d'être approuvée.",
    "device.approved": "Cet appareil ({id}) est approuvé : il peut ouvrir vos documents.",
    "device.revoked": "Cet appareil ({id}) a été révoqué.",
    "device.code": "Code d'enrôlement (courrier ou e-mail)",
    "device.approve": "Approuver avec ce code",
    "device.list": "Tous vos appareils",
    "device.revoke": "Révoquer",
    "device.revokeLabel": "Révoquer l'appareil {name}",
    "device.this": "(cet appareil)",
    "status.pending": "En attente",
    "status.approved": "Approuvé",
    "status.revoked": "Révoqué",
    "error.tampered": "Ce document a été altéré ou ne correspond pas à ce qui a été déposé : il a été refusé et rien n'a été enregistré.",
    "error.network": "Le téléchargement a échoué ; rien n'a été enregistré. Réessayez.",
    "error.link-expired": "Le lien de téléchargement a expiré ; ouvrez le document à nouveau.",
    "error.generic": "L'opération a échoué : {detail}",
    "error.refused": "Accès refusé : {detail}",
  },
  en: {
    title: "Coffre — my health space",
    skip: "Skip to content",
    language: "Français",
    languageLabel: "Passer en français",
    nav: "Sections of my space",
    "nav.log": "Access log",
    "nav.documents": "My documents",
    "nav.grants": "Who may read what",
    "nav.device": "This device",
    "nav.spaces": "Spaces I may read",
    "spaces.patient": "Patient (INS)",
    "spaces.open": "See the documents",
    "spaces.openLabel": "See patient {id}'s documents",
    "spaces.none": "No patient has given you access to their space.",
    "spaces.choose": "First choose a space (“Spaces I may read”).",
    "spaces.viewing": "Space of patient {id}",
    "device.byService": "Your enrolment service must approve it.",
    "error.readRefused": "Read refused: you do not (or no longer) have access to this document. The attempt is recorded in the patient's log.",
    signedIn: "Signed in: {name}",
    logout: "Sign out",
    login: "Sign in",
    loginNeeded: "Sign in to see your space.",
    loading: "Loading…",
    "log.title": "Access log",
    "log.intro": "Every action on your space, refused attempts included. Reading this log is recorded too.",
    "log.when": "When",
    "log.who": "Who",
    "log.what": "What",
    "log.how": "How",
    "log.outcome": "Outcome",
    "log.empty": "No action matches.",
    "log.filters": "Filter the log",
    "log.filter.action": "Action",
    "log.filter.any": "All",
    "log.filter.since": "Since",
    "log.filter.until": "Until",
    "log.filter.actor": "Person's identifier",
    "log.filter.apply": "Filter",
    "log.filter.reset": "Clear filters",
    "log.older": "Older",
    "log.newer": "Newer",
    "log.page": "Page {n}",
    "log.emergency": "Emergency access",
    "log.justification": "Justification: {text}",
    "log.device": "Device: {name}",
    "outcome.allowed": "Allowed",
    "outcome.refused": "Refused",
    "how.grant": "Grant",
    "how.care_team": "Care team",
    "how.emergency": "Emergency access",
    "how.representative": "Legal representative",
    "how.patient": "You",
    "how.author": "Document's author",
    "how.normal": "Normal",
    "docs.title": "My documents",
    "docs.type": "Type",
    "docs.name": "Title",
    "docs.author": "Author",
    "docs.date": "Date",
    "docs.size": "Size",
    "docs.actions": "Actions",
    "docs.open": "Open",
    "docs.save": "Save",
    "docs.openLabel": "Open “{title}”",
    "docs.saveLabel": "Save “{title}”",
    "docs.empty": "No document.",
    "docs.deposit": "Deposit a document",
    "docs.file": "File",
    "docs.depositSubmit": "Encrypt and deposit",
    "docs.encrypting": "Encrypting “{title}”: {done}",
    "docs.sending": "Sending “{title}”…",
    "docs.deposited": "“{title}” was encrypted in this browser and deposited.",
    "docs.unreadable": "The file could not be read; nothing was deposited.",
    "docs.needDevice": "To open a document, this device must first be approved (section “This device”).",
    "docs.progress": "Decrypting “{title}”: {done}",
    "docs.saved": "“{title}” was decrypted and verified.",
    "grants.title": "Who may read what",
    "grants.who": "Professional",
    "grants.scope": "Scope",
    "grants.since": "Since",
    "grants.expires": "Expires",
    "grants.state": "State",
    "grants.never": "Never",
    "grants.active": "Active",
    "grants.revoked": "Revoked",
    "grants.expired": "Expired",
    "grants.revoke": "Revoke",
    "grants.revokeLabel": "Revoke {name}'s grant",
    "grants.revoked.done": "{name}'s grant is revoked: their next read will be refused.",
    "grants.careTeam": "care team",
    "grants.empty": "No grant.",
    "grants.new": "Grant a professional",
    "grants.rpps": "RPPS number",
    "grants.name": "Name",
    "grants.profession": "Profession",
    "grants.organisation": "Organisation (optional)",
    "grants.submit": "Let them read my whole space",
    "grants.granted": "{name} may now read your space.",
    "scope.space": "The whole space",
    "scope.types": "Types: {list}",
    "scope.documents": "{n} document(s)",
    "device.title": "This device",
    "device.intro": "Your documents are decrypted in this browser, with a key made here that never leaves it. It must be approved before it receives a document's key.",
    "device.none": "This device has no key yet.",
    "device.name": "Name of this device",
    "device.defaultName": "Browser",
    "device.add": "Make this device's key",
    "device.pending": "This device's key ({id}) awaits approval.",
    "device.approved": "This device ({id}) is approved: it can open your documents.",
    "device.revoked": "This device ({id}) was revoked.",
    "device.code": "Enrolment code (letter or e-mail)",
    "device.approve": "Approve with this code",
    "device.list": "All your devices",
    "device.revoke": "Revoke",
    "device.revokeLabel": "Revoke the device {name}",
    "device.this": "(this device)",
    "status.pending": "Pending",
    "status.approved": "Approved",
    "status.revoked": "Revoked",
    "error.tampered": "This document was altered or is not what was deposited: it was refused and nothing was saved.",
    "error.network": "The download failed; nothing was saved. Try again.",
    "error.link-expired": "The download link expired; open the document again.",
    "error.generic": "The operation failed: {detail}",
    "error.refused": "Access refused: {detail}",
  },
};

const ACTIONS = {
  fr: {
    read: "Lecture", deposit: "Dépôt", new_version: "Nouvelle version", delete: "Suppression",
    grant: "Autorisation donnée", revoke: "Autorisation révoquée", care_team: "Équipe de soins",
    mask: "Masqué aux professionnels", unmask: "Démasqué", block: "Blocage", unblock: "Déblocage",
    emergency_access: "Accès en urgence", provision: "Création de l'espace", open: "Ouverture",
    activate: "Activation", oppose: "Opposition", close: "Fermeture", reopen: "Réouverture",
    code: "Code envoyé", request_deletion: "Demande de suppression", delete_space: "Suppression de l'espace",
    hide_from_representatives: "Caché aux représentants légaux",
    hold_for_announcement: "En attente de consultation d'annonce",
    announcement_pending: "Consultation d'annonce en attente", release_to_patient: "Rendu visible",
    attending_physician: "Médecin traitant", setting: "Réglage", add_representative: "Représentant ajouté",
    end_representation: "Fin de représentation", device_request: "Appareil demandé",
    device_approve: "Appareil approuvé", device_revoke: "Appareil révoqué", device_code: "Code d'enrôlement",
    access_log: "Consultation du journal",
  },
  en: {
    read: "Read", deposit: "Deposit", new_version: "New version", delete: "Deletion",
    grant: "Grant given", revoke: "Grant revoked", care_team: "Care team",
    mask: "Masked from professionals", unmask: "Unmasked", block: "Block", unblock: "Unblock",
    emergency_access: "Emergency access", provision: "Space created", open: "Opening",
    activate: "Activation", oppose: "Opposition", close: "Closure", reopen: "Reopening",
    code: "Code sent", request_deletion: "Deletion request", delete_space: "Space deleted",
    hide_from_representatives: "Hidden from legal representatives",
    hold_for_announcement: "Held for an announcement consultation",
    announcement_pending: "Announcement consultation pending", release_to_patient: "Made visible",
    attending_physician: "Attending physician", setting: "Setting", add_representative: "Representative added",
    end_representation: "Representation ended", device_request: "Device requested",
    device_approve: "Device approved", device_revoke: "Device revoked", device_code: "Enrolment code",
    access_log: "Log consulted",
  },
};

const PROFESSIONS = {
  fr: {
    doctor: "Médecin", pharmacist: "Pharmacien", nurse: "Infirmier", midwife: "Sage-femme",
    physiotherapist: "Kinésithérapeute", dentist: "Chirurgien-dentiste", social_worker: "Travailleur social",
  },
  en: {
    doctor: "Doctor", pharmacist: "Pharmacist", nurse: "Nurse", midwife: "Midwife",
    physiotherapist: "Physiotherapist", dentist: "Dentist", social_worker: "Social worker",
  },
};

const TYPES = {
  fr: {
    consultation_report: "Compte rendu de consultation", hospital_report: "Compte rendu d'hospitalisation",
    lab_result: "Résultat de biologie", imaging_report: "Compte rendu d'imagerie", prescription: "Ordonnance",
    dispensation: "Dispensation", vaccination: "Vaccination", medical_summary: "Synthèse médicale",
    psychiatric_summary: "Synthèse psychiatrique", social_care: "Document médico-social", patient_note: "Note personnelle",
  },
  en: {
    consultation_report: "Consultation report", hospital_report: "Hospital report", lab_result: "Lab result",
    imaging_report: "Imaging report", prescription: "Prescription", dispensation: "Dispensation",
    vaccination: "Vaccination", medical_summary: "Medical summary", psychiatric_summary: "Psychiatric summary",
    social_care: "Social care document", patient_note: "Personal note",
  },
};

let language = "fr";

/** Pick the language: the saved choice, else French. */
export function initLanguage() {
  const saved = localStorage.getItem("coffre.lang");
  language = saved === "en" ? "en" : "fr";
  document.documentElement.lang = language;
  return language;
}

/** Switch between French and English; the choice is kept. */
export function toggleLanguage() {
  language = language === "fr" ? "en" : "fr";
  localStorage.setItem("coffre.lang", language);
  document.documentElement.lang = language;
  return language;
}

export function currentLanguage() {
  return language;
}

/** A sentence, with {placeholders} filled (as text: the DOM is built with textContent). */
export function t(key, vars = {}) {
  const text = WORDS[language][key] ?? WORDS.fr[key] ?? key;
  return text.replace(/\{(\w+)\}/g, (_, name) => String(vars[name] ?? ""));
}

export const actionName = (action) => ACTIONS[language][action] ?? action;
export const professionName = (p) => (p ? (PROFESSIONS[language][p] ?? p) : "");
export const typeName = (type) => TYPES[language][type] ?? type;
export const professions = () => Object.entries(PROFESSIONS[language]);
export const actions = () => Object.entries(ACTIONS[language]);
export const types = () => Object.entries(TYPES[language]);

/** A date and time as the page's language writes it. */
export function when(iso) {
  return new Date(iso).toLocaleString(language === "fr" ? "fr-FR" : "en-GB", {
    dateStyle: "medium",
    timeStyle: "short",
  });
}

export function day(iso) {
  return new Date(iso).toLocaleDateString(language === "fr" ? "fr-FR" : "en-GB", { dateStyle: "medium" });
}

/** A size in bytes, in units a person reads. */
export function size(bytes) {
  const units = language === "fr" ? ["o", "Ko", "Mo", "Go"] : ["B", "KB", "MB", "GB"];
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit += 1;
  }
  const digits = unit === 0 ? 0 : 1;
  return `${value.toLocaleString(language === "fr" ? "fr-FR" : "en-GB", { maximumFractionDigits: digits })} ${units[unit]}`;
}
