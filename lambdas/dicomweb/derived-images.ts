/**
 * Images derived from stored instances and kept beside them (lambdas/storage/keys.ts derivedImageKey):
 * the thumbnail of an instance at its default size, one per rendered media type. The set is fixed, so
 * Delete removes every derived image of an instance with its objects, without listing the store.
 * Thumbnails with a viewport and rendered images are made on each request (and cached by clients,
 * ETag and Cache-Control).
 */
import { derivedImageKey } from '../storage/keys';
import type { InstanceObject } from '../storage/ports';
import { RENDERED_MEDIA_TYPES, type RenderedMediaType } from './rendered-params';

const EXTENSIONS: Readonly<Record<RenderedMediaType, string>> = { 'image/jpeg': 'jpg', 'image/png': 'png', 'image/gif': 'gif' };

/** Key of the cached default thumbnail of an instance in one media type. */
export function thumbnailKey(object: Pick<InstanceObject, 'objectKey'>, mediaType: RenderedMediaType): string {
  return derivedImageKey(object.objectKey, `thumbnail.${EXTENSIONS[mediaType]}`);
}

/** Every derived image an instance may have: what its Delete removes. */
export function derivedImageKeys(object: Pick<InstanceObject, 'objectKey'>): string[] {
  return RENDERED_MEDIA_TYPES.map((type) => thumbnailKey(object, type));
}
