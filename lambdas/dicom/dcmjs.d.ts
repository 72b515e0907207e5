/**
 * The part of dcmjs's API the codec layer uses (dcmjs ships no type declarations).
 * Data sets are "dcmjs dicts": tag 'GGGGEEEE' -> { vr, Value }, binary values as ArrayBuffer[].
 */
declare module 'dcmjs' {
  export interface DcmjsElement {
    vr: string;
    Value?: unknown[];
  }
  export type DcmjsDataSet = Record<string, DcmjsElement>;

  export interface DictionaryEntry {
    readonly tag: string; // '(GGGG,EEEE)'
    readonly vr: string;
    readonly vm: string;
    readonly name: string;
  }

  export class DicomDict {
    constructor(meta: DcmjsDataSet);
    meta: DcmjsDataSet;
    dict: DcmjsDataSet;
    write(options?: { allowInvalidVRLength?: boolean; fragmentMultiframe?: boolean }): ArrayBuffer;
  }

  export interface ReadFileOptions {
    ignoreErrors?: boolean;
    untilTag?: string | null;
    includeUntilTagValue?: boolean;
    noCopy?: boolean;
    forceStoreRaw?: boolean;
  }

  interface Logger {
    setLevel(level: 'trace' | 'debug' | 'info' | 'warn' | 'error' | 'silent'): void;
  }

  export const data: {
    DicomDict: typeof DicomDict;
    DicomMessage: { readFile(buffer: ArrayBuffer, options?: ReadFileOptions): DicomDict };
    ValueRepresentation: {
      /** The VR's reader: applyFormatting turns a value as read into the value dcmjs keeps (trimmed; PN as objects). */
      createByTypeString(vr: string): { applyFormatting(value: string): unknown };
    };
    DicomMetaDictionary: {
      /** keyword -> entry */
      readonly nameMap: Readonly<Record<string, DictionaryEntry>>;
      /** '(GGGG,EEEE)' -> entry */
      readonly dictionary: Readonly<Record<string, DictionaryEntry | undefined>>;
    };
  };
  export const log: Logger & { getLoggers(): Record<string, Logger> };
}
