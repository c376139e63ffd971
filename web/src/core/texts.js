// The words the threads show: profession labels (shared/ident.c) and the
// French of the CLI's messages (po/fr.po where it has them; the CLI's
// per-message details are English in the CLI, so each detail is kept in
// both: `detail` exactly as the CLI's `read --json` gives it, `detail_fr`
// for the page).
export const PROFESSION_FR = {
  gp: 'Médecin généraliste',
  cardiologist: 'Cardiologue',
  psychiatrist: 'Psychiatre',
  hospital_doctor: 'Médecin hospitalier',
  pharmacist: "Pharmacien d'officine",
  hospital_pharmacist: 'Pharmacien hospitalier',
  nurse: 'Infirmier(e)',
  psychologist: 'Psychologue',
  physiotherapist: 'Masseur-kinésithérapeute',
  midwife: 'Sage-femme',
  dietitian: 'Diététicien(ne)',
  social_worker: 'Assistant(e) de service social',
  coordinator: 'Coordinateur(trice) de parcours',
  secretary: 'Secrétariat médical',
};

export const KIND_FR = { case: 'dossier patient', circle: 'cercle', team: 'équipe', direct: 'direct' };
export const HISTORY_FR = { shared: 'partagé', from_join: 'depuis l’arrivée' };

/**
 * A thread's name in the list and on its page: its topic (decrypted here);
 * else, for a case thread, its case (`caseName`, e.g. « Dossier P-7K2MQX9D ·
 * Sortie d'hospitalisation »: `liaison discharge` gives case threads no
 * topic); else its other members' names; else « Fil sans sujet ».
 */
export function threadTitle({ topic, others = [], caseName = null }, nameOf) {
  if (topic) return topic;
  if (caseName) return caseName;
  if (others.length) return `Fil avec ${others.map(nameOf).join(', ')}`;
  return 'Fil sans sujet';
}

/** The alarm's text (mlog_verify.c chan_alarm_text), en for --json, else French (po/fr.po). */
export function alarmText(a, who, en = false) {
  if (a.source === 'rollback') {
    return en ? `this device verified membership change #${a.head_seq}, which the server no longer shows (log rolled back)`
      : `cet appareil a vérifié le changement de membres n° ${a.head_seq}, que le serveur ne montre plus (journal ramené en arrière)`;
  }
  if (a.source === 'message') {
    return en ? `${who}'s message #${a.msg_seq} was sent after membership change #${a.head_seq}, which the server no longer shows`
      : `le message n° ${a.msg_seq} de ${who} a été envoyé après le changement de membres n° ${a.head_seq}, que le serveur ne montre plus`;
  }
  return en ? `${who}'s key share was sent after membership change #${a.head_seq}, which the server no longer shows`
    : `le partage de clé de ${who} a été envoyé après le changement de membres n° ${a.head_seq}, que le serveur ne montre plus`;
}

/**
 * A message's status detail, [English as the CLI's thread_recv.c, French]:
 * status one of the CLI's (ok, waiting, withheld, before_first,
 * bad_signature, unknown_session, undecryptable, invalid, alarm, duplicate).
 */
export const DETAIL = {
  not_envelope: (why) => [`not a message envelope: ${why}`, `ce n'est pas une enveloppe de message : ${why}`],
  header_mismatch: () => ['its header names another channel or device than the server says',
    "son en-tête nomme un autre canal ou un autre appareil que ce que dit le serveur"],
  withheld: (who, whoFr, reason) => [`key withheld by ${who}: ${reason}`, `clé refusée par ${whoFr} : ${reason}`],
  before_join: () => ['no key for this message: it was sent before you were added (history is not shared in this channel)',
    "pas de clé pour ce message : il a été envoyé avant votre arrivée (l'historique n'est pas partagé dans ce canal)"],
  waiting: (who, whoFr) => [`waiting for the key from ${who}`, `en attente de la clé de ${whoFr}`],
  other_sender: () => ['unknown session: the key we hold for it belongs to another sender',
    'session inconnue : la clé que nous avons pour elle appartient à un autre expéditeur'],
  bad_signature: () => ['bad signature: not signed by the session of its sender (forged or altered)',
    "signature invalide : pas signé par la session de son expéditeur (falsifié ou modifié)"],
  before_first: (fromJoin) => [`no key for this message: it was sent before our first key${fromJoin ? ' (history is not shared in this channel)' : ''}`,
    `pas de clé pour ce message : il a été envoyé avant notre première clé${fromJoin ? " (l'historique n'est pas partagé dans ce canal)" : ''}`],
  wrong_session: () => [`unknown session: ${GS_TEXT.wrong_session}`,
    'session inconnue : le message appartient à une autre session ou à un autre canal que la clé essayée'],
  wrong_sender: () => [`unknown session: ${GS_TEXT.wrong_sender}`,
    "session inconnue : le message se réclame d'un appareil qui n'a pas partagé cette session ; il n'est pas affiché"],
  bad_format: () => [GS_TEXT.bad_format, "le message est mal formé ou d'une version inconnue ; l'expéditeur doit peut-être mettre à jour"],
  too_far_ahead: () => [GS_TEXT.too_far_ahead, 'pas de clé pour ce message : il est trop loin devant notre clé ; attendez une clé plus récente'],
  decrypt_failed: () => [GS_TEXT.decrypt_failed, 'le message ne se déchiffre pas avec la clé de session ; la clé que nous avons est peut-être fausse, redemandez-la'],
  alarm: (index, seq) => [`ALARM: another message already used index ${index} of this session (message #${seq}): replay or forgery`,
    `ALARME : un autre message a déjà utilisé l'index ${index} de cette session (message n° ${seq}) : rejeu ou falsification`],
  duplicate: (seq) => [`duplicate of message #${seq} (sent again by the server)`,
    `doublon du message n° ${seq} (envoyé de nouveau par le serveur)`],
  content_mismatch: () => ['its content names another channel or sender than its envelope (rejected)',
    "son contenu nomme un autre canal ou un autre expéditeur que son enveloppe (rejeté)"],
  bad_link: () => ["its link to the sender's previous message is malformed (rejected)",
    "son lien vers le message précédent de l'expéditeur est mal formé (rejeté)"],
  bad_head: () => ['its membership-log head is malformed (rejected)',
    'sa tête de journal des membres est mal formée (rejeté)'],
  not_in_log: () => ['WARNING: the sender is not in the signed membership log',
    "ATTENTION : l'expéditeur n'est pas dans le journal des membres signé"],
  renumbered: (seq) => [`WARNING: the server now shows another message at #${seq} than this one: messages before it were deleted and the rest renumbered`,
    `ATTENTION : le serveur montre maintenant un autre message au n° ${seq} que celui-ci : des messages antérieurs ont été supprimés et les suivants renumérotés`],
};

/** The libsodium-level results of gsOpen, as the CLI's lsn_gs_result_text. */
export const GS_TEXT = {
  bad_format: 'message is malformed or of an unknown version; the sender may need to update',
  wrong_session: 'message belongs to another session or channel than the key tried',
  wrong_sender: 'message claims a sender device that did not share this session; it was not shown',
  too_far_ahead: 'no key for this message: it is too far ahead of our key; wait for a newer key',
  decrypt_failed: 'message does not decrypt with the session key; the key we hold may be wrong, ask for it again',
};
