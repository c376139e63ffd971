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
  // the client's own codes
  network: ['la connexion au serveur est impossible ou a été coupée', 'vérifiez le réseau puis réessayez'],
  timeout: ['le serveur ne répond pas', 'vérifiez le réseau puis réessayez'],
  protocol: ['le serveur a répondu de façon inattendue', 'rechargez la page ; si cela se reproduit, signalez-le'],
  bad_passphrase: ['phrase de passe incorrecte', 'vérifiez-la (majuscules, accents) et réessayez'],
  storage_local: ['ce navigateur n’a pas pu enregistrer les clés', 'vérifiez qu’il n’est pas en navigation privée et qu’il reste de la place'],
};

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
