export { analyseEmail, type EmailSignals } from './email.js';
export { analyseIban, type IbanSignals } from './iban.js';
export {
  type AvsResult,
  type CheckResult,
  normaliseAvs,
  normaliseCvv,
  normaliseThreeDs,
} from './payment.js';
export { analysePhone, type PhoneSignals, type PhoneType } from './phone.js';
export { analyseVat, type VatSignals } from './vat.js';
