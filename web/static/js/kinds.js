// @ts-check
// The account's document kinds as the configurator shows them: words, the
// name a document goes by, and the form of each kind (a JSON Schema in the
// subset schema.js reads, with Kazoo's field names and the server's rules;
// fields a form leaves out are kept as they are on save).

/** @typedef {import('./types.js').JSONSchema} JSONSchema */

/**
 * @typedef {{
 *   kind: string,
 *   one: string,
 *   title: string,
 *   icon: string,
 *   schema: JSONSchema,
 *   nameOf: (d: Record<string, unknown>) => string,
 *   detail?: (d: Record<string, unknown>) => string,
 *   toForm?: (d: Record<string, unknown>) => Record<string, unknown>,
 *   fromForm?: (d: Record<string, unknown>) => Record<string, unknown>,
 *   derives?: string[],
 * }} KindInfo
 */

const str = (/** @type {unknown} */ v) => (typeof v === 'string' ? v : '');

const WEEKDAYS = ['monday', 'tuesday', 'wednesday', 'thursday', 'friday', 'saturday', 'sunday'];

/**
 * Seconds after midnight → "HH:MM".
 * @param {unknown} s
 */
export function clock(s) {
  if (typeof s !== 'number') return '';
  const m = Math.round(s / 60);
  return `${String(Math.floor(m / 60)).padStart(2, '0')}:${String(m % 60).padStart(2, '0')}`;
}

/**
 * "HH:MM" → seconds after midnight (undefined when not a time).
 * @param {unknown} v
 */
function seconds(v) {
  const m = /^(\d{1,2}):(\d{2})$/.exec(str(v).trim());
  return m ? Number(m[1]) * 3600 + Number(m[2]) * 60 : undefined;
}

const TIME = { type: 'string', pattern: '^([01]?[0-9]|2[0-4]):[0-5][0-9]$', maxLength: 5 };

/** @type {KindInfo[]} */
export const KINDS = [
  {
    kind: 'users', one: 'user', title: 'Users', icon: 'user',
    nameOf: (d) => `${str(d.first_name)} ${str(d.last_name)}`.trim() || str(d.username),
    detail: (d) => [str(d.presence_id) && `Ext. ${str(d.presence_id)}`, str(d.email)].filter(Boolean).join(' · '),
    schema: {
      required: ['first_name', 'last_name'],
      properties: {
        first_name: { type: 'string', title: 'First name', minLength: 1, maxLength: 128 },
        last_name: { type: 'string', title: 'Last name', minLength: 1, maxLength: 128 },
        presence_id: { type: 'string', title: 'Extension', description: 'The extension others see and dial.', maxLength: 64 },
        email: { type: 'string', title: 'Email', maxLength: 254 },
        username: { type: 'string', title: 'Sign-in name', maxLength: 256 },
        timezone: { type: 'string', title: 'Time zone', description: 'An IANA zone such as Europe/Paris.', maxLength: 64 },
        priv_level: { type: 'string', title: 'Role', enum: ['user', 'admin'], default: 'user' },
        enabled: { type: 'boolean', title: 'Enabled', default: true },
      },
    },
  },
  {
    kind: 'devices', one: 'device', title: 'Devices', icon: 'device',
    nameOf: (d) => str(d.name),
    detail: (d) => [str(d.device_type), d.sip && typeof d.sip === 'object' ? str(/** @type {Record<string, unknown>} */ (d.sip).username) : ''].filter(Boolean).join(' · '),
    schema: {
      required: ['name'],
      properties: {
        name: { type: 'string', title: 'Name', minLength: 1, maxLength: 128 },
        device_type: { type: 'string', title: 'Type', enum: ['sip_device', 'softphone', 'cellphone', 'landline', 'sip_uri'], default: 'sip_device' },
        owner_id: { type: 'string', title: 'Owner', description: 'The user this device belongs to.' },
        sip: {
          type: 'object', title: 'SIP sign-in',
          properties: {
            username: { type: 'string', title: 'SIP user name', maxLength: 64, pattern: '^[^\\s:@]+$' },
            password: { type: 'string', title: 'SIP password', maxLength: 128 },
          },
        },
        ringtimeout: { type: 'integer', title: 'Rings for (seconds)', minimum: 1, maximum: 600 },
        enabled: { type: 'boolean', title: 'Enabled', default: true },
      },
    },
  },
  {
    kind: 'groups', one: 'group', title: 'Groups', icon: 'ring_group',
    nameOf: (d) => str(d.name),
    detail: (d) => `${d.endpoints && typeof d.endpoints === 'object' ? Object.keys(d.endpoints).length : 0} members`,
    toForm: (d) => ({ ...d, members: d.endpoints && typeof d.endpoints === 'object' ? Object.keys(d.endpoints) : [] }),
    derives: ['endpoints'],
    fromForm: (d) => {
      const { members, ...rest } = d;
      /** @type {Record<string, unknown>} */
      const old = rest.endpoints && typeof rest.endpoints === 'object' ? /** @type {Record<string, unknown>} */ (rest.endpoints) : {};
      /** @type {Record<string, unknown>} */
      const endpoints = {};
      for (const id of Array.isArray(members) ? members : []) endpoints[String(id)] = old[String(id)] || { type: 'user' };
      return { ...rest, endpoints };
    },
    schema: {
      required: ['name'],
      properties: {
        name: { type: 'string', title: 'Name', minLength: 1, maxLength: 128 },
        members: { type: 'array', title: 'Members', description: 'Users of the group.', items: { type: 'string' } },
      },
    },
  },
  {
    kind: 'media', one: 'media file', title: 'Media', icon: 'play',
    nameOf: (d) => str(d.name),
    detail: (d) => [str(d.media_source), str(d.content_type)].filter(Boolean).join(' · '),
    schema: {
      required: ['name'],
      properties: {
        name: { type: 'string', title: 'Name', minLength: 1, maxLength: 128 },
        description: { type: 'string', title: 'Description', maxLength: 512 },
        media_source: { type: 'string', title: 'Source', enum: ['upload', 'recording', 'tts'], default: 'upload' },
        tts: { type: 'object', title: 'Text to speech', properties: { text: { type: 'string', title: 'Text', maxLength: 4000 } } },
      },
    },
  },
  {
    kind: 'menus', one: 'menu', title: 'Menus', icon: 'menu',
    nameOf: (d) => str(d.name),
    detail: (d) => (typeof d.retries === 'number' ? `${d.retries} attempts` : ''),
    schema: {
      required: ['name'],
      properties: {
        name: { type: 'string', title: 'Name', minLength: 1, maxLength: 128 },
        media: { type: 'object', title: 'Greeting', properties: { greeting: { type: 'string', title: 'Greeting', description: 'The media played first.', minLength: 3, maxLength: 2048 } } },
        retries: { type: 'integer', title: 'Attempts', minimum: 1, maximum: 10, default: 3 },
        timeout: { type: 'integer', title: 'Wait for a key (ms)', minimum: 1000, maximum: 60000 },
      },
    },
  },
  {
    kind: 'vmboxes', one: 'voicemail box', title: 'Voicemail boxes', icon: 'voicemail',
    nameOf: (d) => str(d.name),
    detail: (d) => (str(d.mailbox) ? `Box ${str(d.mailbox)}` : ''),
    schema: {
      required: ['name', 'mailbox'],
      properties: {
        name: { type: 'string', title: 'Name', minLength: 1, maxLength: 128 },
        mailbox: { type: 'string', title: 'Box number', minLength: 1, maxLength: 30, pattern: '^[0-9]+$' },
        pin: { type: 'string', title: 'PIN', description: 'Four to six digits; stored hashed.', minLength: 4, maxLength: 6, pattern: '^[0-9]+$' },
        owner_id: { type: 'string', title: 'Owner' },
        timezone: { type: 'string', title: 'Time zone', maxLength: 64 },
      },
    },
  },
  {
    kind: 'conferences', one: 'conference', title: 'Conferences', icon: 'conference',
    nameOf: (d) => str(d.name),
    detail: (d) => (Array.isArray(d.conference_numbers) ? d.conference_numbers.join(', ') : ''),
    schema: {
      required: ['name'],
      properties: {
        name: { type: 'string', title: 'Name', minLength: 1, maxLength: 128 },
        conference_numbers: { type: 'array', title: 'Conference numbers', items: { type: 'string' } },
        max_participants: { type: 'integer', title: 'Most participants', minimum: 0 },
        play_name: { type: 'boolean', title: 'Announce names', default: false },
      },
    },
  },
  {
    kind: 'temporal_rules', one: 'time-of-day rule', title: 'Time-of-day rules', icon: 'clock',
    nameOf: (d) => str(d.name),
    detail: (d) => {
      const days = Array.isArray(d.wdays) ? d.wdays.map((w) => String(w).slice(0, 3)).join(' ') : '';
      return [str(d.cycle), days, d.time_window_start !== undefined ? `${clock(d.time_window_start)}–${clock(d.time_window_stop)}` : ''].filter(Boolean).join(' · ');
    },
    toForm: (d) => ({ ...d, time_window_start: clock(d.time_window_start) || undefined, time_window_stop: clock(d.time_window_stop) || undefined }),
    fromForm: (d) => ({ ...d, time_window_start: seconds(d.time_window_start), time_window_stop: seconds(d.time_window_stop) }),
    schema: {
      required: ['name', 'cycle'],
      properties: {
        name: { type: 'string', title: 'Name', minLength: 1, maxLength: 128 },
        cycle: { type: 'string', title: 'Repeats', enum: ['weekly', 'daily', 'monthly', 'yearly', 'date'], default: 'weekly' },
        wdays: { type: 'array', title: 'Days', items: { type: 'string', enum: WEEKDAYS } },
        time_window_start: { ...TIME, title: 'Opens at', description: 'HH:MM, such as 09:00.' },
        time_window_stop: { ...TIME, title: 'Closes at', description: 'HH:MM, such as 17:00.' },
        interval: { type: 'integer', title: 'Every', description: 'Every how many weeks, days, months or years.', minimum: 1, default: 1 },
      },
    },
  },
  {
    kind: 'temporal_rules_sets', one: 'rule set', title: 'Rule sets', icon: 'clock',
    nameOf: (d) => str(d.name),
    schema: { required: ['name'], properties: { name: { type: 'string', title: 'Name', minLength: 1, maxLength: 128 }, temporal_rules: { type: 'array', title: 'Rules', items: { type: 'string' } } } },
  },
  {
    kind: 'callflows', one: 'call flow', title: 'Call flows', icon: 'flow',
    nameOf: (d) => str(d.name) || (Array.isArray(d.numbers) ? d.numbers.join(', ') : ''),
    schema: { properties: { name: { type: 'string', title: 'Name' } } },
  },
  {
    kind: 'trunks', one: 'trunk', title: 'Trunks', icon: 'sip',
    nameOf: (d) => str(d.name),
    detail: (d) => [Array.isArray(d.source_cidrs) ? d.source_cidrs.join(', ') : '', str(d.outbound_uri)].filter(Boolean).join(' · '),
    schema: {
      required: ['name'],
      properties: {
        name: { type: 'string', title: 'Name', minLength: 1, maxLength: 128 },
        source_cidrs: { type: 'array', title: 'Calls come from', description: 'IP addresses or networks (CIDR, such as 203.0.113.0/24) the carrier or PBX sends calls from. Calls from them belong to this account.', items: { type: 'string', maxLength: 64 } },
        outbound_uri: { type: 'string', title: 'Send calls to', description: 'The gateway for calls this account dials to numbers, such as sip:gw.example.net:5060;transport=tcp.', maxLength: 512, pattern: '^[sS][iI][pP][sS]?:[^\\s<>"]+$' },
      },
    },
  },
  {
    kind: 'resources', one: 'carrier', title: 'Carriers', icon: 'sip',
    nameOf: (d) => str(d.name),
    detail: (d) => (Array.isArray(d.gateways) ? d.gateways.map((g) => str(g && /** @type {Record<string, unknown>} */ (g).server)).join(', ') : ''),
    schema: {
      required: ['name'],
      properties: {
        name: { type: 'string', title: 'Name', minLength: 1, maxLength: 128 },
        rules: { type: 'array', title: 'Numbers it takes', description: 'Regular expressions on the dialled number.', items: { type: 'string' } },
        weight_cost: { type: 'integer', title: 'Cost (1–100)', minimum: 1, maximum: 100, default: 50 },
        enabled: { type: 'boolean', title: 'Enabled', default: true },
      },
    },
  },
];

/** @type {Map<string, KindInfo>} */
const byKind = new Map(KINDS.map((k) => [k.kind, k]));

/**
 * @param {string} kind
 * @returns {KindInfo}
 */
export function kindInfo(kind) {
  return byKind.get(kind) || { kind, one: kind, title: kind, icon: 'block', schema: {}, nameOf: (d) => str(d.name) };
}

/**
 * Which stored document kind a block's field names (module.field, dotted
 * for nested fields): the pop-ups pick these from lists, by name.
 * @type {Record<string, string>}
 */
export const REF_FIELDS = {
  'callflow.id': 'callflows',
  'play.id': 'media',
  'menu.id': 'menus',
  'menu.media.greeting': 'media',
  'menu.media.invalid_media': 'media',
  'menu.media.exit_media': 'media',
  'temporal_route.rules': 'temporal_rules',
  'temporal_route.rule_set': 'temporal_rules_sets',
  'user.id': 'users',
  'device.id': 'devices',
  'voicemail.id': 'vmboxes',
  'conference.id': 'conferences',
  'ring_group.id': 'groups',
  'group.id': 'groups',
  'vmboxes.owner_id': 'users',
  'devices.owner_id': 'users',
  'conferences.owner_id': 'users',
  'groups.members': 'users',
  'menus.media.greeting': 'media',
  'temporal_rules_sets.temporal_rules': 'temporal_rules',
};
