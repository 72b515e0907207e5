/** Delete of a study, series or instance: removes objects and index entries, leaves a tombstone (410). */
import type { DicomwebRequest } from './http';
import { dicomwebHandler, type Operations } from './middleware';

function target(req: DicomwebRequest) {
  return {
    studyInstanceUID: req.pathParameters.study!,
    seriesInstanceUID: req.pathParameters.series,
    sopInstanceUID: req.pathParameters.instance,
  };
}

const noContent = { status: 204 } as const;

export const operations: Operations = {
  DeleteStudy: async (req, s) => (await s.delete.deleteStudy(target(req)), noContent),
  DeleteSeries: async (req, s) => (await s.delete.deleteSeries(target(req)), noContent),
  DeleteInstance: async (req, s) => (await s.delete.deleteInstance(target(req)), noContent),
};

export const handler = dicomwebHandler('delete', operations);
