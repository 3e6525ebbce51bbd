/**
 * What the emulated MMSC does per recipient, by the same fictional 555-01XX numbers the carrier
 * simulator uses (+1NPA55501XX), so a test picks an outcome by number:
 *
 * | Number        | At submit                                         | DeliveryReportReq MMStatus |
 * |---------------|---------------------------------------------------|----------------------------|
 * | +1NPA5550101  | accepted                                          | Rejected                   |
 * | +1NPA5550102  | the whole SubmitReq refused: fault 2002 Address Error | none                   |
 * | +1NPA5550103  | accepted                                          | Expired                    |
 * | +1NPA5550104  | accepted                                          | Indeterminate              |
 * | +1NPA5550105  | accepted                                          | Deferred, then Retrieved   |
 * | +1NPA5550106  | fault 4006 Service unavailable for the first `serviceUnavailableSubmits` submits | Retrieved |
 * | +1NPA5550107  | accepted                                          | Unrecognised               |
 * | anything else | accepted                                          | Retrieved                  |
 *
 * MM7 answers a SubmitReq as a whole, so one refused number refuses the group.
 */
export interface RecipientScript {
  submitFault?: { statusCode: number; statusText: string; onlyFirst?: boolean };
  reports: string[];
}

export function mmscScriptFor(address: string): RecipientScript {
  const digits = address.replace(/\/TYPE=.*$/i, '').replace(/\D/g, '');
  const m = /^1?[2-9]\d{2}55501(\d{2})$/.exec(digits);
  switch (m?.[1]) {
    case '01':
      return { reports: ['Rejected'] };
    case '02':
      return { submitFault: { statusCode: 2002, statusText: 'Address Error' }, reports: [] };
    case '03':
      return { reports: ['Expired'] };
    case '04':
      return { reports: ['Indeterminate'] };
    case '05':
      return { reports: ['Deferred', 'Retrieved'] };
    case '06':
      return {
        submitFault: { statusCode: 4006, statusText: 'Service unavailable', onlyFirst: true },
        reports: ['Retrieved'],
      };
    case '07':
      return { reports: ['Unrecognised'] };
    default:
      return { reports: ['Retrieved'] };
  }
}
