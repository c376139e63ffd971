// The protocol's error codes (docs/PROTOCOL.md "Errors") said in French as
// "ce qui ne va pas : que faire", the code kept in brackets so that support
// and the documentation can be searched with it.
const FR = {
  bad_json: ['le serveur n’a pas compris la requête', 'rechargez la page ; si cela se reproduit, signalez-le'],
  bad_request: ['une valeur envoyée est refusée par le serveur', 'vérifiez la saisie et réessayez'],
  unknown_op: ['le serveur ne connaît pas cette opération', 'le serveur et la page ne sont pas de la même version : rechargez la page'],
  too_large: ['la requête est trop grande', 'envoyez moins de données à la fois'],
  not_logged_in: ['la session n’est pas ouverte', 'déverrouillez ce navigateur'],
  already_logged_in: ['la session est déjà ouverte', 'rechargez la page'],
  no_challenge: ['la connexion a expiré', 'réessayez'],
  bad_signature: ['une signature est refusée', 'ce navigateur n’a pas les bonnes clés ; inscrivez-le à nouveau avec une nouvelle invitation'],
  invite_unknown: ['ce code d’invitation est inconnu de ce serveur', 'vérifiez le code (24 caractères) ou demandez-en un nouveau à votre administrateur'],
  invite_used: ['cette invitation a déjà servi', 'demandez une nouvelle invitation à votre administrateur'],
  invite_expired: ['cette invitation a expiré', 'demandez une nouvelle invitation à votre administrateur'],
  unknown_device: ['le serveur ne connaît pas cet appareil', 'inscrivez ce navigateur à nouveau avec une invitation'],
  device_revoked: ['cet appareil a été révoqué', 'inscrivez ce navigateur à nouveau avec une nouvelle invitation'],
  not_found: ['l’élément demandé n’existe pas', 'vérifiez la saisie'],
  forbidden: ['vous n’avez pas le droit de faire cela', 'demandez à votre coordinateur ou à votre administrateur'],
  conflict: ['cet élément existe déjà', 'réessayez ; si cela se reproduit, signalez-le'],
  invalid_rpps: ['le numéro RPPS est invalide', 'vérifiez ses 11 chiffres'],
  invalid_finess: ['le numéro FINESS est invalide', 'vérifiez ses 9 chiffres'],
  rate_limited: ['trop de requêtes ou de tentatives', 'patientez un instant puis réessayez'],
  storage: ['le serveur n’a pas pu enregistrer (rien n’a été écrit)', 'réessayez dans un moment'],
  shutting_down: ['le serveur redémarre', 'réessayez dans quelques secondes'],
  internal: ['erreur interne du serveur', 'réessayez ; si cela se reproduit, signalez-le à votre administrateur'],
  too_many_connections: ['vous avez trop de connexions ouvertes', 'fermez un autre onglet ou appareil puis réessayez'],
  too_many_unauth: ['trop de connexions depuis cette adresse', 'réessayez dans un moment'],
  case_closed: ['ce dossier est clôturé', 'ses étapes ne changent plus'],
  case_already_closed: ['ce dossier est déjà clôturé', 'rien à faire'],
  step_done: ['cette étape est déjà faite', 'un coordinateur peut la rouvrir'],
  step_skipped: ['cette étape a déjà été marquée non faite', 'un coordinateur peut la rouvrir'],
  step_pending: ['cette étape est encore à faire', 'il n’y a rien à rouvrir'],
  not_assignee: ['seul le responsable de l’étape ou un coordinateur peut la changer', 'demandez-le au responsable ou au coordinateur de la CPTS'],
  coordinator_only: ['seul un coordinateur peut faire cela', 'demandez-le au coordinateur de la CPTS'],
  no_cpts: ['ce dossier n’est rattaché à aucune CPTS', 'ajoutez au fil le médecin traitant (ou un autre membre d’une CPTS), ou nommez la CPTS'],
  already_alerted: ['ce message a déjà donné une alerte', 'envoyez un nouveau message pour alerter de nouveau'],
  case_backdated: ['la date de début (J0) est trop ancienne', 'demandez au coordinateur de la CPTS d’ouvrir ce dossier'],
  todevice_not_allowed: ['ce collègue ne partage aucun fil avec vous', 'ajoutez-le d’abord à un fil'],
  todevice_queue_full: ['la file d’attente de cet appareil est pleine', 'réessayez plus tard ; s’il ne se connecte plus, prévenez l’administrateur'],
  too_many_channels: ['le nombre de fils par personne est atteint', 'quittez un fil dont vous n’avez plus besoin, ou voyez avec l’administrateur'],
  too_many_cases: ['vous avez le nombre maximal de dossiers ouverts', 'clôturez un dossier terminé d’abord'],
  storage_quota: ['vos pièces jointes occupent tout l’espace qui vous est réservé sur le serveur', 'demandez à l’administrateur ou attendez que d’anciennes pièces jointes soient supprimées'],
  // the client's own codes
  network: ['la connexion au serveur est impossible ou a été coupée', 'vérifiez le réseau puis réessayez'],
  timeout: ['le serveur ne répond pas', 'vérifiez le réseau puis réessayez'],
  protocol: ['le serveur a répondu de façon inattendue', 'rechargez la page ; si cela se reproduit, signalez-le'],
  bad_passphrase: ['phrase de passe incorrecte', 'vérifiez-la (majuscules, accents) et réessayez'],
  storage_local: ['ce navigateur n’a pas pu enregistrer les clés', 'vérifiez qu’il n’est pas en navigation privée et qu’il reste de la place'],
};

/** Is code one this table says in French? */
export function knownCode(code) {
  return Object.prototype.hasOwnProperty.call(FR, code);
}

/** "ce qui ne va pas : que faire (code)"; an unknown code keeps the server's own text. */
export function frenchError(code, serverMessage = '') {
  const fr = FR[code];
  if (fr) return `${capital(fr[0])}\u00a0: ${fr[1]} (${code}).`;
  const detail = serverMessage ? ` : ${serverMessage}` : '';
  return `Le serveur refuse la demande${detail}\u00a0: réessayez ou signalez-le (${code}).`;
}

function capital(s) {
  return s.charAt(0).toUpperCase() + s.slice(1);
}
