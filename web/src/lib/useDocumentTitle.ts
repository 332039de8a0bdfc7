import { useEffect } from 'react';

/** Sets the document title as "<page> · Meridian". */
export function useDocumentTitle(title: string) {
  useEffect(() => {
    document.title = title === 'Meridian' ? title : `${title} · Meridian`;
  }, [title]);
}
