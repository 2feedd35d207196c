"""LL-HLS for audiences beyond WebRTC: a publication packaged once into CMAF fMP4 parts."""
