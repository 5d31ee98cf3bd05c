import appendField from 'append-field';
import { toFormValue } from '@ticketflow/contract';
const store = Object.create(null);
appendField(store, 'attachments[4294967294]', 'x');
console.log(Array.isArray(store.attachments), store.attachments.length);
const t = Date.now(); toFormValue(store); console.log('ms', Date.now() - t);
